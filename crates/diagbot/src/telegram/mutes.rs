//! `/mute ID [for] [force]`, `/unmute ID`, `/mutes`: silencing a group's new-error
//! alerts from Telegram, written to the store as `diagbot groups mute` does.

use super::render::escape;
use crate::history::groups::{self, MuteError};
use crate::state::AppState;

/// Mutes group `id` for `span` (a duration such as 7d), or until /unmute.
pub async fn mute(state: &AppState, id: &str, span: Option<&str>, force: bool) -> String {
    let duration = match span.map(diagbot_core::when::parse_duration).transpose() {
        Ok(d) => d,
        Err(_) => {
            return format!(
                "⚠ <b>{}</b> is not a duration such as 90s, 15m, 1h or 7d",
                escape(span.unwrap_or_default())
            )
        }
    };
    match groups::mute(state, id, duration, "telegram", force).await {
        Ok(m) => format!("🔕 muted <code>{}</code> {}", escape(&m.id), until(m.until)),
        Err(e) => failed(&e),
    }
}

/// Lifts the mute of group `id`.
pub async fn unmute(state: &AppState, id: &str) -> String {
    match groups::unmute(state, id).await {
        Ok(true) => format!("🔔 unmuted <code>{}</code>", escape(id.trim())),
        Ok(false) => format!("<code>{}</code> was not muted", escape(id.trim())),
        Err(e) => failed(&e),
    }
}

/// The mutes, soonest to end first.
pub async fn list(state: &AppState) -> String {
    match groups::mutes(state).await {
        Ok(mutes) if mutes.is_empty() => "no groups are muted".to_string(),
        Ok(mutes) => {
            let now = chrono::Utc::now().timestamp();
            let mut out = "<b>mutes</b>".to_string();
            // A list a person made by hand: a few dozen at most; cut to be safe.
            for m in mutes.iter().take(50) {
                let ended = if m.active(now) { "" } else { " (ended)" };
                out.push_str(&format!(
                    "\n<code>{}</code> {}{ended} · by {}",
                    escape(&m.id),
                    until(m.until),
                    escape(&m.by)
                ));
            }
            if mutes.len() > 50 {
                out.push_str(&format!(
                    "\n<i>{} more: diagbot groups mutes</i>",
                    mutes.len() - 50
                ));
            }
            out
        }
        Err(e) => failed(&e),
    }
}

fn until(t: Option<i64>) -> String {
    match t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
        Some(t) => format!(
            "until {}",
            t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
        ),
        None => "until /unmute".to_string(),
    }
}

fn failed(e: &MuteError) -> String {
    format!("⚠ {}", escape(&e.to_string()))
}
