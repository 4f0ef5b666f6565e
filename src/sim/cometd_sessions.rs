//! CometD clients known to the server: their subscriptions, replay positions and liveness.
//!
//! A client that doesn't reconnect within the reconnect deadline after a connect's answer is
//! forgotten; its next message gets `403::Unknown client`
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_client_connection.htm>).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

use super::events::Filter;

#[derive(Debug, Clone)]
pub struct Subscription {
    pub channel: String,
    pub filter: Filter,
    /// The replay id of the last event delivered (or skipped by `-1`) on this subscription.
    pub cursor: u64,
}

#[derive(Debug)]
pub struct Session {
    pub subscriptions: Vec<Subscription>,
    /// The `BAYEUX_BROWSER` cookie the session was handshaken with.
    pub browser: String,
    /// Whether the first `/meta/connect` (answered at once, with advice) has happened.
    pub connected: bool,
    /// Increases with every connect; a held connect that sees a newer one gives way.
    pub generation: u64,
    /// A connect is held open for this client.
    pub holding: bool,
    expires: Instant,
}

impl Session {
    /// The client answered; it has `deadline` to come back.
    pub fn answered(&mut self, deadline: Duration) {
        self.holding = false;
        self.expires = Instant::now() + deadline;
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    clients: HashMap<String, Session>,
    browsers: HashSet<String>,
}

/// Lower-case letters and digits, 27 long, like the client ids Salesforce hands out ([OBS]).
fn client_id() -> String {
    Alphanumeric
        .sample_string(&mut rand::rng(), 27)
        .to_lowercase()
}

impl Sessions {
    /// A new `BAYEUX_BROWSER` cookie value.
    pub fn new_browser(&mut self) -> String {
        let value = Alphanumeric.sample_string(&mut rand::rng(), 24);
        self.browsers.insert(value.clone());
        value
    }

    pub fn knows_browser(&self, value: &str) -> bool {
        self.browsers.contains(value)
    }

    pub fn create(&mut self, browser: String, deadline: Duration) -> String {
        let id = client_id();
        self.clients.insert(
            id.clone(),
            Session {
                subscriptions: Vec::new(),
                browser,
                connected: false,
                generation: 0,
                holding: false,
                expires: Instant::now() + deadline,
            },
        );
        id
    }

    /// The live session of `id`; a session past its deadline is dropped first.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Session> {
        let expired = self
            .clients
            .get(id)
            .is_some_and(|s| !s.holding && s.expires < Instant::now());
        if expired {
            self.clients.remove(id);
        }
        self.clients.get_mut(id)
    }

    pub fn remove(&mut self, id: &str) -> bool {
        self.clients.remove(id).is_some()
    }

    pub fn clear(&mut self) {
        self.clients.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_unless_a_connect_is_held() {
        let mut sessions = Sessions::default();
        let browser = sessions.new_browser();
        assert!(sessions.knows_browser(&browser));
        let id = sessions.create(browser, Duration::ZERO);
        assert_eq!(id.len(), 27);
        std::thread::sleep(Duration::from_millis(2));
        assert!(sessions.get_mut(&id).is_none(), "past its deadline");
        let id = sessions.create("b".into(), Duration::ZERO);
        if let Some(s) = sessions.clients.get_mut(&id) {
            s.holding = true;
        }
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            sessions.get_mut(&id).is_some(),
            "held connects keep it alive"
        );
        assert_eq!(sessions.clients.len(), 1);
    }
}
