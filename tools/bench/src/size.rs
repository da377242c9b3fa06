//! Size of each function's stripped release binary.

use crate::FUNCTIONS;

pub fn run(bin_dir: &std::path::Path) -> Result<(), String> {
    println!("release binary sizes (opt-level z, LTO, stripped; goal <= 8 MB):");
    for f in FUNCTIONS {
        let path = bin_dir.join(f);
        let bytes = std::fs::metadata(&path)
            .map_err(|e| {
                format!(
                    "{}: {e} (build with cargo build --release first)",
                    path.display()
                )
            })?
            .len();
        println!("  {f:<12} {:>6.2} MB", bytes as f64 / 1_000_000.0);
    }
    Ok(())
}
