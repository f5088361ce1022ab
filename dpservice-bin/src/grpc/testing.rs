//! A stand-in for the worker in unit tests: a thread that owns a [`State`] and runs the
//! submitted closures one after another, like the real worker does between bursts.

use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use super::service::StateExecutor;
use crate::state::State;

type Job = Box<dyn FnOnce(&mut State) + Send>;

/// Handle to the state thread; the thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct ThreadExecutor {
    jobs: mpsc::Sender<Job>,
}

impl ThreadExecutor {
    /// Moves `state` onto a new thread.
    pub fn spawn(mut state: State) -> ThreadExecutor {
        let (jobs, rx) = mpsc::channel::<Job>();
        thread::spawn(move || {
            for job in rx {
                job(&mut state);
            }
        });
        ThreadExecutor { jobs }
    }
}

impl StateExecutor for ThreadExecutor {
    async fn exec<R, F>(&self, f: F) -> Option<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut State) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |state| {
            let _ = tx.send(f(state));
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }
}

/// An executor whose worker is gone.
#[derive(Debug, Clone, Copy)]
pub struct DeadExecutor;

impl StateExecutor for DeadExecutor {
    async fn exec<R, F>(&self, _: F) -> Option<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut State) -> R + Send + 'static,
    {
        None
    }
}
