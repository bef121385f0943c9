//! What waits to be sent, and which alerts may be. The outbox is bounded: when
//! Telegram is unreachable for long, the oldest messages are dropped (and
//! counted), so memory stays flat. Alerts have a key and a cooldown: the same
//! alert at most once per cooldown; repeats within it are held back and said
//! in one summary when the cooldown ends.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub chat: i64,
    pub html: String,
}

pub struct Outbox {
    queue: Mutex<VecDeque<Outgoing>>,
    capacity: usize,
    ready: Notify,
    dropped: AtomicU64,
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Outgoing>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `msg`; when full, the oldest message is dropped.
    pub fn push(&self, msg: Outgoing) {
        let mut q = self.lock();
        if q.len() >= self.capacity {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(msg);
        drop(q);
        self.ready.notify_one();
    }

    /// The next message, waiting for one.
    pub async fn pop(&self) -> Outgoing {
        loop {
            if let Some(msg) = self.lock().pop_front() {
                return msg;
            }
            self.ready.notified().await;
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Held {
    sent_at: Instant,
    held: u64,
    last_text: String,
}

/// Alert cooldowns by key.
pub struct Cooldowns {
    cooldown: Duration,
    keys: HashMap<String, Held>,
}

/// An alert to send now, with how many like it were held back before it.
#[derive(Debug, PartialEq, Eq)]
pub struct Release {
    pub key: String,
    pub text: String,
    pub held_back: u64,
}

impl Cooldowns {
    pub fn new(cooldown: Duration) -> Cooldowns {
        Cooldowns {
            cooldown,
            keys: HashMap::new(),
        }
    }

    /// An alert happened: `Some` when it may be sent now, `None` when it is held back.
    pub fn admit(&mut self, key: &str, text: &str, now: Instant) -> Option<Release> {
        match self.keys.get_mut(key) {
            Some(h) if now.duration_since(h.sent_at) < self.cooldown => {
                h.held += 1;
                h.last_text = text.to_string();
                None
            }
            _ => {
                // Entries past their cooldown with nothing held are done with.
                let cooldown = self.cooldown;
                self.keys
                    .retain(|_, h| h.held > 0 || now.duration_since(h.sent_at) < cooldown);
                self.keys.insert(
                    key.to_string(),
                    Held {
                        sent_at: now,
                        held: 0,
                        last_text: text.to_string(),
                    },
                );
                Some(Release {
                    key: key.to_string(),
                    text: text.to_string(),
                    held_back: 0,
                })
            }
        }
    }

    /// Summaries due now: keys whose cooldown ended with repeats held back.
    pub fn due(&mut self, now: Instant) -> Vec<Release> {
        let mut out = Vec::new();
        for (key, h) in self.keys.iter_mut() {
            if h.held > 0 && now.duration_since(h.sent_at) >= self.cooldown {
                out.push(Release {
                    key: key.clone(),
                    text: h.last_text.clone(),
                    held_back: h.held,
                });
                h.held = 0;
                h.sent_at = now;
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_message_is_dropped_when_full() {
        let o = Outbox::new(2);
        for i in 0..3 {
            o.push(Outgoing {
                chat: i,
                html: String::new(),
            });
        }
        assert_eq!(o.len(), 2);
        assert_eq!(o.dropped(), 1);
        let first = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(o.pop());
        assert_eq!(first.chat, 1);
    }

    #[test]
    fn repeats_are_held_and_summarised_after_the_cooldown() {
        let mut c = Cooldowns::new(Duration::from_secs(60));
        let t = Instant::now();
        assert!(c.admit("oom:bot", "kill 1", t).is_some());
        for i in 2..=50 {
            assert_eq!(c.admit("oom:bot", &format!("kill {i}"), t), None);
        }
        // Another key is not held by this one.
        assert!(c.admit("restart:bot", "r", t).is_some());
        assert_eq!(c.due(t + Duration::from_secs(30)), vec![]);
        assert_eq!(
            c.due(t + Duration::from_secs(60)),
            vec![Release {
                key: "oom:bot".into(),
                text: "kill 50".into(),
                held_back: 49
            }]
        );
        assert_eq!(c.due(t + Duration::from_secs(200)), vec![]);
        // After a quiet cooldown the next one goes straight out.
        assert!(c
            .admit("oom:bot", "kill 51", t + Duration::from_secs(300))
            .is_some());
    }
}
