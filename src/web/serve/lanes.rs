//! Which serving thread serves a connection: the one on the CPU its packets arrive on.
//!
//! The kernel records, for each socket, the CPU that handled its last incoming packet
//! (`SO_INCOMING_CPU`): for a network card, the CPU its receive queue interrupts; on loopback,
//! the client's own. When the thread that reads the request and writes the answer runs on that
//! same CPU, a request never wakes another core, and the socket's buffers stay in that core's
//! cache. So each serving thread is bound to one CPU, a new connection goes to the thread of its
//! CPU, and a connection whose packets have come to arrive on another CPU (its client moved, or
//! the card's queues were re-balanced) moves to that CPU's thread between two requests, as
//! nginx's `reuseport` listeners steered by `SO_INCOMING_CPU` would. A thread never takes more
//! than `SLACK` connections beyond the least busy one that way: past that, balance wins.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// How many more open connections than the least busy thread a thread may have and still be
/// given (or moved) one because of its CPU.
const SLACK: usize = 8;

/// A connection handed to a serving thread.
pub(super) type Handed = (std::net::TcpStream, SocketAddr);

/// The serving threads, as the acceptor and each other see them.
pub(super) struct Lanes {
    lanes: Vec<Lane>,
    /// The CPU each thread is bound to, when they are.
    cpus: Vec<Option<usize>>,
}

struct Lane {
    send: mpsc::UnboundedSender<Handed>,
    open: AtomicUsize,
}

impl Lanes {
    /// The CPUs for `threads` serving threads: one each, the CPUs this process may run on, when
    /// there are exactly as many (else the threads are not bound, and the scheduler places
    /// them).
    pub fn cpus(threads: usize) -> Vec<Option<usize>> {
        #[cfg(target_os = "linux")]
        if let Ok(set) = rustix::thread::sched_getaffinity(None) {
            let allowed: Vec<usize> =
                (0..rustix::thread::CpuSet::MAX_CPU).filter(|&cpu| set.is_set(cpu)).collect();
            if allowed.len() == threads && threads > 1 {
                return allowed.into_iter().map(Some).collect();
            }
        }
        vec![None; threads]
    }

    /// Binds the calling thread to `cpu`.
    pub fn bind(cpu: Option<usize>) {
        #[cfg(target_os = "linux")]
        if let Some(cpu) = cpu {
            let mut set = rustix::thread::CpuSet::new();
            set.set(cpu);
            if let Err(err) = rustix::thread::sched_setaffinity(None, &set) {
                tracing::debug!(error = %err, cpu, "could not bind a serving thread to its CPU");
            }
        }
    }

    pub fn new(sends: Vec<mpsc::UnboundedSender<Handed>>, cpus: Vec<Option<usize>>) -> Self {
        let lanes = sends.into_iter().map(|send| Lane { send, open: AtomicUsize::new(0) }).collect();
        Self { lanes, cpus }
    }

    pub fn len(&self) -> usize {
        self.lanes.len()
    }

    /// Connections open on thread `lane`.
    pub fn open(&self, lane: usize) -> usize {
        self.lanes[lane].open.load(Ordering::Relaxed)
    }

    /// Gives thread `lane` a connection. Fails when that thread has stopped.
    pub fn hand(&self, lane: usize, connection: Handed) -> Result<(), Handed> {
        self.lanes[lane].open.fetch_add(1, Ordering::Relaxed);
        self.lanes[lane].send.send(connection).map_err(|err| {
            self.lanes[lane].open.fetch_sub(1, Ordering::Relaxed);
            err.0
        })
    }

    /// A connection of thread `lane` has ended (or moved away).
    pub fn ended(&self, lane: usize) {
        self.lanes[lane].open.fetch_sub(1, Ordering::Relaxed);
    }

    /// The thread for a new connection: its CPU's if that one has room, else the least busy
    /// (ties go round, from `next`).
    pub fn choose(&self, stream: &impl std::os::fd::AsFd, next: usize) -> usize {
        let n = self.lanes.len();
        let least = (0..n).map(|i| (next + i) % n).min_by_key(|&i| self.open(i)).unwrap_or(0);
        self.home(stream).filter(|&home| self.has_room(home)).unwrap_or(least)
    }

    /// Where a connection served by thread `lane` should move: the thread of the CPU its
    /// packets now arrive on, if that is another and it has room.
    pub fn better(&self, lane: usize, stream: &impl std::os::fd::AsFd) -> Option<usize> {
        self.home(stream).filter(|&home| home != lane && self.has_room(home))
    }

    /// Whether thread `lane` may take one more connection for its CPU's sake: it has fewer than
    /// `SLACK` more than the least busy thread.
    fn has_room(&self, lane: usize) -> bool {
        let least = (0..self.lanes.len()).map(|i| self.open(i)).min().unwrap_or(0);
        self.open(lane) < least + SLACK
    }

    /// The thread bound to the CPU that handled the socket's last incoming packet (for threads
    /// not bound, the one of that number, modulo theirs).
    fn home(&self, stream: &impl std::os::fd::AsFd) -> Option<usize> {
        #[cfg(target_os = "linux")]
        {
            let cpu = rustix::net::sockopt::socket_incoming_cpu(stream).ok()? as usize;
            if self.cpus.iter().all(Option::is_none) {
                return Some(cpu % self.lanes.len());
            }
            self.cpus.iter().position(|&bound| bound == Some(cpu))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = stream;
            None
        }
    }
}
