//! The local fleet: the release local server, file-backed in a temporary
//! directory (or in memory), under a Twin fleet on the same machine.
//! Prints heartbeats answered against those the chargers' schedules held,
//! latency, errors, the server's CPU time per 1,000 requests and the size of
//! its data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (Linux's USER_HZ, 100 on
/// every architecture it exports to user space).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Chargers the Twin runs.
    #[arg(long, default_value_t = 2000)]
    pub chargers: usize,
    /// Sites they are spread over (a site holds at most 500 chargers).
    #[arg(long, default_value_t = 50)]
    pub sites: usize,
    /// Simulated seconds per wall second: the load of chargers x speed
    /// chargers.
    #[arg(long, default_value_t = 25.0)]
    pub speed: f64,
    /// Wall-clock seconds the fleet runs after enrolling.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Run the server in memory instead of on a data file.
    #[arg(long)]
    pub in_memory: bool,
    /// The server's REQUEST_LOG: `errors` as the template sets it, or
    /// `all` (the local default: one more write per request).
    #[arg(long, default_value = "errors")]
    pub request_log: String,
    /// Where the release local-server binary is.
    #[arg(long, default_value = "target/release")]
    pub bin_dir: PathBuf,
}

/// The server process; killed if the benchmark fails before stopping it.
struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// User and system CPU seconds the process has used so far.
    fn cpu_seconds(&self) -> Result<f64, String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| format!("cannot read the server's CPU time: {e}"))?;
        // The fields after the command name, which is in parentheses and
        // may hold spaces; utime and stime are the 14th and 15th fields.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        match (ticks(11), ticks(12)) {
            (Some(user), Some(system)) => Ok((user + system) / TICKS_PER_SECOND),
            _ => Err(format!("unexpected /proc stat line: {stat}")),
        }
    }

    /// Stops the server as Ctrl-C does, so it closes its data cleanly.
    fn interrupt(&mut self) -> Result<(), String> {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .map_err(|e| format!("cannot signal the server: {e}"))?;
        self.child.wait().map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Bytes of the data file and its write-ahead log, if any.
fn data_bytes(data: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut path = data.as_os_str().to_owned();
            path.push(suffix);
            std::fs::metadata(PathBuf::from(path)).ok()
        })
        .map(|m| m.len())
        .sum()
}

async fn start(options: &Options) -> Result<(Server, String, PathBuf), String> {
    let binary = options.bin_dir.join("local-server");
    if !binary.exists() {
        return Err(format!(
            "{} is missing (cargo build --release -p local-server)",
            binary.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let data = dir.join("fleet.sqlite");
    let port = free_port()?;
    let mut command = Command::new(&binary);
    command.args(["--port", &port.to_string()]);
    if options.in_memory {
        command.arg("--in-memory");
    } else {
        command.arg("--data").arg(&data);
    }
    // The whole fleet registers from this one address.
    command
        .env("REGISTRATION_LIMIT", "0")
        .env("REQUEST_LOG", &options.request_log)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let server = Server { child, dir };
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/v1/health")).await.is_ok() {
            return Ok((server, url, data));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the local server did not start".into())
}

pub async fn run(options: Options) -> Result<(), String> {
    let (mut server, url, data) = start(&options).await?;
    let store = if options.in_memory {
        "in memory"
    } else {
        "file-backed"
    };
    let cpu_before = server.cpu_seconds()?;
    let summary = twin::run(twin::Config {
        url,
        sites: options.sites,
        chargers: options.chargers,
        duration: Duration::from_secs(options.seconds),
        speed: options.speed,
        seed: 1,
        state: None,
        provisioning_key: None,
        fault_rate: 0.2,
        session_rate: 1.0,
        firmware_failure_rate: 0.0,
        anomalies: false,
        progress: false,
        protocol: twin::Protocol::Http,
        client: None,
        site_capacity_kw: None,
    })
    .await?;
    let cpu = server.cpu_seconds()? - cpu_before;
    let during = data_bytes(&data);
    server.interrupt()?;
    let after = data_bytes(&data);

    let hb = summary.heartbeats;
    let requests = summary.total_requests;
    println!(
        "local fleet, {store}, REQUEST_LOG={}: {} chargers in {} sites at speed {} ({} chargers' load), {} s, Twin on the same machine:",
        options.request_log,
        options.chargers,
        options.sites,
        options.speed,
        (options.chargers as f64 * options.speed).round(),
        options.seconds
    );
    println!(
        "  heartbeats answered {} of {} scheduled ({:.1} %; goal >= 99 %)",
        hb.answered,
        hb.scheduled,
        100.0 * hb.answered as f64 / hb.scheduled.max(1) as f64
    );
    println!(
        "  {requests} requests, latency p50 {} ms, p99 {} ms (goal < 50 ms), {} errors",
        summary.latency_ms.p50, summary.latency_ms.p99, summary.unexpected_errors
    );
    for e in &summary.unexpected {
        println!("    {e}");
    }
    println!(
        "  server CPU {:.1} s, {:.2} CPU-seconds per 1,000 requests",
        cpu,
        cpu * 1000.0 / requests.max(1) as f64
    );
    if !options.in_memory {
        println!(
            "  data file {:.1} MB at the end of the run with its write-ahead log, {:.1} MB once closed",
            during as f64 / 1e6,
            after as f64 / 1e6
        );
    }
    Ok(())
}
