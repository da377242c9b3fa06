//! One function's execution environments, kept as Lambda keeps them. An
//! invocation goes to an environment waiting on its Runtime API `/next`, or
//! waits in line while another environment starts (up to the function's
//! concurrency). An environment runs one invocation at a time; one that
//! runs past the function's timeout is stopped; one whose process dies
//! fails the invocation it held.

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The function's response document.
    Response(Bytes),
    /// The function reported an error (`/invocation/{id}/error`).
    Error,
    /// The process ended before answering (a crash or a failed init).
    Crashed,
    /// The function ran past its timeout and was stopped.
    TimedOut,
}

/// What `/next` hands the runtime.
#[derive(Debug, Clone)]
pub struct Handout {
    pub request_id: String,
    pub event: Bytes,
    pub deadline_ms: i64,
    pub trace_id: String,
}

struct Waiting {
    request_id: String,
    event: Bytes,
    trace_id: String,
    reply: oneshot::Sender<Outcome>,
}

enum Phase {
    /// Spawned, not yet polling: the cold start.
    Starting(Instant),
    /// Polling `/next` with nothing to do.
    Idle(oneshot::Sender<Handout>),
    Busy {
        request_id: String,
        reply: oneshot::Sender<Outcome>,
    },
    /// Answered, not polling again yet.
    Working,
    /// The process is gone; its supervisor starts the next one.
    Ended,
}

struct Environment {
    /// Which process of this environment is current; older ones' calls
    /// to the Runtime API are ignored.
    generation: u64,
    phase: Phase,
    stop: Arc<Notify>,
}

#[derive(Default)]
struct State {
    environments: Vec<Environment>,
    backlog: VecDeque<Waiting>,
    cold_starts: Vec<Duration>,
    tasks: Vec<JoinHandle<()>>,
    closed: bool,
}

/// Starts the supervisor of environment `slot` of a pool.
pub type Launcher = Box<dyn Fn(Arc<Pool>, usize) -> JoinHandle<()> + Send + Sync>;

pub struct Pool {
    pub function: String,
    pub arn: String,
    timeout: Duration,
    concurrency: usize,
    launcher: Launcher,
    state: Mutex<State>,
}

impl Pool {
    pub fn new(
        function: &str,
        timeout: Duration,
        concurrency: usize,
        launcher: Launcher,
    ) -> Arc<Self> {
        Arc::new(Self {
            arn: format!(
                "arn:aws:lambda:{}:123456789012:function:{function}",
                crate::REGION
            ),
            function: function.to_owned(),
            timeout,
            concurrency: concurrency.max(1),
            launcher,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an invocation; the receiver gets its outcome (or nothing
    /// when the pool closes first).
    pub fn invoke(self: &Arc<Self>, event: Bytes, trace_id: &str) -> oneshot::Receiver<Outcome> {
        let (reply, outcome) = oneshot::channel();
        let waiting = Waiting {
            request_id: uuid::Uuid::new_v4().to_string(),
            event,
            trace_id: trace_id.to_owned(),
            reply,
        };
        let mut state = self.state();
        if state.closed {
            return outcome;
        }
        let Some(waiting) = self.hand_to_idle(&mut state, waiting) else {
            return outcome;
        };
        state.backlog.push_back(waiting);
        let starting = state
            .environments
            .iter()
            .filter(|e| matches!(e.phase, Phase::Starting(_)))
            .count();
        if state.backlog.len() > starting && state.environments.len() < self.concurrency {
            let slot = state.environments.len();
            state.environments.push(Environment {
                generation: 0,
                phase: Phase::Starting(Instant::now()),
                stop: Arc::new(Notify::new()),
            });
            let task = (self.launcher)(self.clone(), slot);
            state.tasks.push(task);
        }
        outcome
    }

    fn hand_to_idle(self: &Arc<Self>, state: &mut State, waiting: Waiting) -> Option<Waiting> {
        for (slot, env) in state.environments.iter_mut().enumerate() {
            if !matches!(env.phase, Phase::Idle(_)) {
                continue;
            }
            let Phase::Idle(poll) = std::mem::replace(&mut env.phase, Phase::Working) else {
                continue;
            };
            // A poll whose connection closed is gone with its process.
            if poll.send(self.handout(&waiting)).is_ok() {
                self.start_running(slot, env, waiting);
                return None;
            }
        }
        Some(waiting)
    }

    fn handout(&self, waiting: &Waiting) -> Handout {
        let deadline = chrono::Utc::now()
            + chrono::Duration::from_std(self.timeout).unwrap_or(chrono::Duration::MAX);
        Handout {
            request_id: waiting.request_id.clone(),
            event: waiting.event.clone(),
            deadline_ms: deadline.timestamp_millis(),
            trace_id: waiting.trace_id.clone(),
        }
    }

    fn start_running(self: &Arc<Self>, slot: usize, env: &mut Environment, waiting: Waiting) {
        let pool = self.clone();
        let (generation, request_id) = (env.generation, waiting.request_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(pool.timeout).await;
            pool.expire(slot, generation, &request_id);
        });
        env.phase = Phase::Busy {
            request_id: waiting.request_id,
            reply: waiting.reply,
        };
    }

    /// `/next` from process `generation` of environment `slot`: the next
    /// invocation once there is one; `None` when that process is not the
    /// environment's current one.
    pub async fn next(self: &Arc<Self>, slot: usize, generation: u64) -> Option<Handout> {
        let poll = {
            let mut guard = self.state();
            let State {
                environments,
                backlog,
                cold_starts,
                ..
            } = &mut *guard;
            let env = environments
                .get_mut(slot)
                .filter(|e| e.generation == generation)?;
            match std::mem::replace(&mut env.phase, Phase::Working) {
                Phase::Starting(since) => {
                    let took = since.elapsed();
                    cold_starts.push(took);
                    tracing::info!(
                        function = %self.function,
                        environment = slot,
                        ms = format!("{:.1}", took.as_secs_f64() * 1000.0),
                        "cold start"
                    );
                }
                Phase::Busy { reply, request_id } => {
                    tracing::warn!(function = %self.function, request_id, "the runtime asked for the next event without answering");
                    let _ = reply.send(Outcome::Error);
                }
                Phase::Ended => {
                    env.phase = Phase::Ended;
                    return None;
                }
                Phase::Idle(_) | Phase::Working => {}
            }
            if let Some(waiting) = backlog.pop_front() {
                let handout = self.handout(&waiting);
                self.start_running(slot, env, waiting);
                return Some(handout);
            }
            let (poll, handed) = oneshot::channel();
            env.phase = Phase::Idle(poll);
            handed
        };
        poll.await.ok()
    }

    /// `/response` or `/error` for `request_id`; false when the
    /// environment is not running that invocation.
    pub fn answer(&self, slot: usize, generation: u64, request_id: &str, outcome: Outcome) -> bool {
        let mut state = self.state();
        let Some(env) = state
            .environments
            .get_mut(slot)
            .filter(|e| e.generation == generation)
        else {
            return false;
        };
        match std::mem::replace(&mut env.phase, Phase::Working) {
            Phase::Busy {
                request_id: running,
                reply,
            } if running == request_id => {
                let _ = reply.send(outcome);
                true
            }
            other => {
                env.phase = other;
                false
            }
        }
    }

    /// Lambda stops an environment whose invocation outruns the timeout.
    fn expire(&self, slot: usize, generation: u64, request_id: &str) {
        let mut state = self.state();
        let Some(env) = state
            .environments
            .get_mut(slot)
            .filter(|e| e.generation == generation)
        else {
            return;
        };
        if !matches!(&env.phase, Phase::Busy { request_id: running, .. } if running == request_id) {
            return;
        }
        if let Phase::Busy { reply, .. } = std::mem::replace(&mut env.phase, Phase::Ended) {
            let _ = reply.send(Outcome::TimedOut);
        }
        tracing::warn!(
            function = %self.function,
            environment = slot,
            request_id,
            "task timed out after {:.2} seconds; stopping the process",
            self.timeout.as_secs_f64()
        );
        env.stop.notify_one();
    }

    /// Stops the current process of environment `slot` (after its runtime
    /// reported an init error, as Lambda does).
    pub fn stop(&self, slot: usize, generation: u64) {
        let state = self.state();
        if let Some(env) = state
            .environments
            .get(slot)
            .filter(|e| e.generation == generation)
        {
            env.stop.notify_one();
        }
    }

    /// The supervisor starts a new process for environment `slot`: its
    /// generation and the signal that stops it; `None` once closed.
    pub fn begin(&self, slot: usize) -> Option<(u64, Arc<Notify>)> {
        let mut state = self.state();
        if state.closed {
            return None;
        }
        let env = state.environments.get_mut(slot)?;
        env.generation += 1;
        env.phase = Phase::Starting(Instant::now());
        env.stop = Arc::new(Notify::new());
        Some((env.generation, env.stop.clone()))
    }

    /// Process `generation` of environment `slot` ended: what it held
    /// fails. Returns true when it ended during init, which also fails the
    /// invocation that waited longest (it waited for that init).
    pub fn ended(&self, slot: usize, generation: u64) -> bool {
        let mut guard = self.state();
        let State {
            environments,
            backlog,
            ..
        } = &mut *guard;
        let Some(env) = environments
            .get_mut(slot)
            .filter(|e| e.generation == generation)
        else {
            return false;
        };
        match std::mem::replace(&mut env.phase, Phase::Ended) {
            Phase::Busy { reply, .. } => {
                let _ = reply.send(Outcome::Crashed);
                false
            }
            Phase::Starting(_) => {
                if let Some(waiting) = backlog.pop_front() {
                    let _ = waiting.reply.send(Outcome::Crashed);
                }
                true
            }
            _ => false,
        }
    }

    pub fn cold_starts(&self) -> Vec<Duration> {
        self.state().cold_starts.clone()
    }

    /// Stops every environment (their processes are killed with their
    /// supervisors); queued invocations get no outcome.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.backlog.clear();
        for task in state.tasks.drain(..) {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A pool whose launcher only counts the environments it was asked for.
    fn pool(concurrency: usize, timeout: Duration) -> (Arc<Pool>, Arc<AtomicUsize>) {
        let launched = Arc::new(AtomicUsize::new(0));
        let counter = launched.clone();
        let launcher: Launcher = Box::new(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async {})
        });
        (Pool::new("Fn", timeout, concurrency, launcher), launched)
    }

    fn event(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[tokio::test]
    async fn an_invocation_starts_an_environment_which_takes_it_on_its_first_poll() {
        let (pool, launched) = pool(2, Duration::from_secs(5));
        let outcome = pool.invoke(event("a"), "Root=1-test");
        assert_eq!(launched.load(Ordering::SeqCst), 1);
        let (generation, _) = pool.begin(0).unwrap();
        let handout = pool.next(0, generation).await.unwrap();
        assert_eq!(handout.event, "a");
        assert_eq!(pool.cold_starts().len(), 1);
        assert!(pool.answer(
            0,
            generation,
            &handout.request_id,
            Outcome::Response(event("ok"))
        ));
        assert!(matches!(outcome.await.unwrap(), Outcome::Response(b) if b == "ok"));
    }

    #[tokio::test]
    async fn an_idle_environment_gets_the_next_invocation_without_a_new_start() {
        let (pool, launched) = pool(2, Duration::from_secs(5));
        let _first = pool.invoke(event("a"), "Root=1-test");
        let (generation, _) = pool.begin(0).unwrap();
        let first = pool.next(0, generation).await.unwrap();
        pool.answer(
            0,
            generation,
            &first.request_id,
            Outcome::Response(event("ok")),
        );
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.next(0, generation).await }
        });
        tokio::task::yield_now().await;
        while pool.invoke_would_wait() {
            tokio::task::yield_now().await;
        }
        let _second = pool.invoke(event("b"), "Root=1-test");
        assert_eq!(waiting.await.unwrap().unwrap().event, "b");
        assert_eq!(launched.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invocations_wait_in_line_beyond_the_concurrency() {
        let (pool, launched) = pool(1, Duration::from_secs(5));
        let _a = pool.invoke(event("a"), "Root=1-test");
        let _b = pool.invoke(event("b"), "Root=1-test");
        assert_eq!(launched.load(Ordering::SeqCst), 1);
        let (generation, _) = pool.begin(0).unwrap();
        let a = pool.next(0, generation).await.unwrap();
        pool.answer(0, generation, &a.request_id, Outcome::Response(event("ok")));
        assert_eq!(pool.next(0, generation).await.unwrap().event, "b");
    }

    #[tokio::test]
    async fn a_process_that_dies_fails_its_invocation_and_its_old_calls_are_ignored() {
        let (pool, _) = pool(1, Duration::from_secs(5));
        let outcome = pool.invoke(event("a"), "Root=1-test");
        let (generation, _) = pool.begin(0).unwrap();
        let a = pool.next(0, generation).await.unwrap();
        assert!(!pool.ended(0, generation), "it had finished its init");
        assert!(matches!(outcome.await.unwrap(), Outcome::Crashed));
        let (next, _) = pool.begin(0).unwrap();
        assert!(!pool.answer(0, generation, &a.request_id, Outcome::Error));
        assert!(pool.next(0, generation).await.is_none());
        assert_ne!(next, generation);
    }

    #[tokio::test]
    async fn a_failed_init_fails_the_invocation_that_waited_for_it() {
        let (pool, _) = pool(1, Duration::from_secs(5));
        let outcome = pool.invoke(event("a"), "Root=1-test");
        let (generation, _) = pool.begin(0).unwrap();
        assert!(pool.ended(0, generation));
        assert!(matches!(outcome.await.unwrap(), Outcome::Crashed));
    }

    #[tokio::test(start_paused = true)]
    async fn an_invocation_past_the_timeout_times_out_and_stops_the_process() {
        let (pool, _) = pool(1, Duration::from_secs(3));
        let outcome = pool.invoke(event("a"), "Root=1-test");
        let (generation, stop) = pool.begin(0).unwrap();
        pool.next(0, generation).await.unwrap();
        let stopped = stop.notified();
        tokio::time::sleep(Duration::from_secs(4)).await;
        stopped.await;
        assert!(matches!(outcome.await.unwrap(), Outcome::TimedOut));
    }

    impl Pool {
        /// True until some environment polls with nothing to do.
        fn invoke_would_wait(&self) -> bool {
            !self
                .state()
                .environments
                .iter()
                .any(|e| matches!(e.phase, Phase::Idle(_)))
        }
    }
}
