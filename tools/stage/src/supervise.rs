//! The processes behind an environment: each start gets a fresh Runtime
//! API and the function's environment variables, and only those, as in
//! Lambda; a process that ends (crash, failed init, stopped after its
//! timeout) is replaced, and its output is passed on line by line.

use crate::pool::{Launcher, Pool};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;

/// After a failed init, wait before the next start, twice as long after
/// each further failure, instead of restarting in a tight loop.
const INIT_RETRY: Duration = Duration::from_secs(1);
const INIT_RETRY_MAX: Duration = Duration::from_secs(30);

/// How to start one function's process.
pub struct Launch {
    pub binary: PathBuf,
    pub environment: Vec<(String, String)>,
    /// Pass the process's output on (else it is dropped).
    pub forward_output: bool,
}

pub fn launcher(launch: Launch) -> Launcher {
    let launch = Arc::new(launch);
    Box::new(move |pool, slot| tokio::spawn(supervise(pool, slot, launch.clone())))
}

/// Aborts a task when dropped, so no Runtime API outlives its process.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn supervise(pool: Arc<Pool>, slot: usize, launch: Arc<Launch>) {
    let mut retry = INIT_RETRY;
    while let Some((generation, stop)) = pool.begin(slot) {
        let ended = run_once(&pool, slot, generation, &stop, &launch).await;
        let during_init = pool.ended(slot, generation);
        match ended {
            Ok(how) => tracing::warn!(
                function = %pool.function,
                environment = slot,
                during_init,
                "the process ended ({how}); starting another"
            ),
            Err(e) => tracing::error!(
                function = %pool.function,
                environment = slot,
                binary = %launch.binary.display(),
                "cannot run the process: {e}"
            ),
        }
        if during_init {
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(INIT_RETRY_MAX);
        } else {
            retry = INIT_RETRY;
        }
    }
}

/// Runs one process until it ends or is stopped.
async fn run_once(
    pool: &Arc<Pool>,
    slot: usize,
    generation: u64,
    stop: &tokio::sync::Notify,
    launch: &Launch,
) -> Result<String, std::io::Error> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let runtime_api = listener.local_addr()?.to_string();
    let app = crate::runtime::router(pool.clone(), slot, generation);
    let _server = AbortOnDrop(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }));
    let output = || {
        if launch.forward_output {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let mut child = Command::new(&launch.binary)
        .env_clear()
        .envs(launch.environment.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("{}/{slot}/{generation}", pool.function),
        )
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .kill_on_drop(true)
        .spawn()?;
    let label = format!("{}#{slot}", pool.function);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pass_on(out, label.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pass_on(err, label));
    }
    tokio::select! {
        status = child.wait() => Ok(status?.to_string()),
        () = stop.notified() => {
            child.kill().await?;
            Ok("stopped".to_owned())
        }
    }
}

async fn pass_on(stream: impl AsyncRead + Unpin, label: String) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("{label} {line}");
    }
}
