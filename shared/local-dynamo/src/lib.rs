//! The embedded DynamoDB-compatible engine (dynoxide, on SQLite) inside
//! this process: handed the AWS SDK's requests directly, without a socket
//! ([`InProcess`], the local server's), or served on a loopback port for
//! what needs an endpoint ([`Engine`]: the tests, the stage's functions).

mod in_process;

pub use in_process::InProcess;

use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Engine {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

/// Where the engine keeps its data.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Gone when the process ends.
    Memory,
    /// A SQLite file that survives restarts.
    File(std::path::PathBuf),
}

/// Opens the engine's database. A file runs in WAL mode with
/// `synchronous=NORMAL`: a commit is in the log before it is answered, so
/// it survives the process being killed, but the log is synced to disk only
/// at checkpoints, so a power loss may take the last commits. The engine's
/// default syncs every commit behind its one lock, which caps a fleet's
/// writes at the disk's flush rate.
fn open(storage: &Storage) -> Result<dynoxide::Database, String> {
    let db = match storage {
        Storage::Memory => dynoxide::Database::memory(),
        Storage::File(path) => dynoxide::Database::new(&path.to_string_lossy()),
    }
    .map_err(|e| format!("cannot open the embedded engine: {e}"))?;
    if matches!(storage, Storage::File(_)) {
        // The engine's one way to set `synchronous=NORMAL`; the other
        // settings it restores are SQLite's defaults.
        db.disable_bulk_loading()
            .map_err(|e| format!("cannot configure the embedded engine: {e}"))?;
    }
    Ok(db)
}

impl Engine {
    /// Starts the engine on `127.0.0.1:port` (0 picks a free port).
    pub async fn start(storage: &Storage, port: u16) -> Result<Self, String> {
        let db = open(storage)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot bind the embedded engine: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests and waits for the running ones.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
