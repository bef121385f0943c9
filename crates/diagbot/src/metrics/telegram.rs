//! The Telegram bot's counters.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::KindLabel;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabel {
    pub command: String,
}

/// The Telegram bot's counters.
#[derive(Default)]
pub struct TelegramMetrics {
    pub updates: Counter,
    pub commands: Family<CommandLabel, Counter>,
    pub refused: Counter,
    pub sent: Counter,
    pub send_failures: Counter,
    pub outbox: prometheus_client::metrics::gauge::Gauge,
    /// A running total kept by the outbox: raised to it, never lowered.
    pub outbox_dropped: Counter<u64, AtomicU64>,
    /// Health events that came faster than alerts could be made of them.
    pub events_dropped: Counter,
    pub alerts: Family<KindLabel, Counter>,
}

impl TelegramMetrics {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "diagbot_telegram_updates",
            "Telegram updates received",
            self.updates.clone(),
        );
        registry.register(
            "diagbot_telegram_commands",
            "Telegram commands answered, by command",
            self.commands.clone(),
        );
        registry.register(
            "diagbot_telegram_refused",
            "Telegram messages from chats not allowed",
            self.refused.clone(),
        );
        registry.register(
            "diagbot_telegram_sent",
            "Telegram messages sent",
            self.sent.clone(),
        );
        registry.register(
            "diagbot_telegram_send_failures",
            "Telegram sends that failed (each retry counts)",
            self.send_failures.clone(),
        );
        registry.register(
            "diagbot_telegram_outbox",
            "Telegram messages waiting to be sent",
            self.outbox.clone(),
        );
        registry.register(
            "diagbot_telegram_outbox_dropped",
            "Telegram messages dropped from a full outbox (oldest first)",
            self.outbox_dropped.clone(),
        );
        registry.register(
            "diagbot_telegram_events_dropped",
            "Health events dropped before they became alerts: they came faster than alerts could be queued",
            self.events_dropped.clone(),
        );
        registry.register(
            "diagbot_telegram_alerts",
            "Alerts raised, by kind (before cooldowns)",
            self.alerts.clone(),
        );
    }

    pub fn count_command(&self, command: &str) {
        self.commands
            .get_or_create(&CommandLabel {
                command: command.to_string(),
            })
            .inc();
    }

    pub fn count_alert(&self, kind: &str) {
        self.alerts
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn set_outbox(&self, waiting: usize, dropped: u64) {
        self.outbox.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        self.outbox_dropped
            .inner()
            .fetch_max(dropped, Ordering::Relaxed);
    }
}
