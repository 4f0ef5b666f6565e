//! Wake-ups: a change event for an object wakes that object's poller in this process, with the
//! time the change was committed (so a read that already got past it is not repeated).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

#[derive(Default)]
struct Slot {
    notify: Notify,
    /// The newest commit time heard of and not yet taken by the poller.
    latest: Mutex<Option<DateTime<Utc>>>,
}

/// One wake-up slot per read object, shared by the listener and the pollers.
#[derive(Clone, Default)]
pub struct Wakers {
    slots: Arc<HashMap<String, Slot>>,
}

impl Wakers {
    pub fn new<'a>(objects: impl IntoIterator<Item = &'a str>) -> Self {
        let slots = objects
            .into_iter()
            .map(|o| (o.to_owned(), Slot::default()))
            .collect();
        Self {
            slots: Arc::new(slots),
        }
    }

    /// A change of `object` was committed at `at`; false when the object is not read.
    pub fn wake(&self, object: &str, at: DateTime<Utc>) -> bool {
        let Some(slot) = self.slots.get(object) else {
            return false;
        };
        if let Ok(mut latest) = slot.latest.lock() {
            *latest = (*latest).max(Some(at));
        }
        slot.notify.notify_one();
        true
    }

    /// Wakes every object (the listener may have missed events).
    pub fn wake_all(&self, at: DateTime<Utc>) {
        for object in self.slots.keys() {
            self.wake(object, at);
        }
    }

    /// Waits for a wake-up of `object` (forever for an unknown one).
    pub async fn notified(&self, object: &str) {
        match self.slots.get(object) {
            Some(slot) => slot.notify.notified().await,
            None => std::future::pending().await,
        }
    }

    /// The commit time of the newest change heard of since the last call.
    pub fn take(&self, object: &str) -> Option<DateTime<Utc>> {
        self.slots
            .get(object)
            .and_then(|s| s.latest.lock().ok().and_then(|mut l| l.take()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_keeps_the_newest_time_until_taken() {
        let wakers = Wakers::new(["Contact"]);
        let t1 = Utc::now();
        let t2 = t1 + chrono::Duration::seconds(1);
        assert!(wakers.wake("Contact", t2));
        assert!(wakers.wake("Contact", t1));
        assert!(!wakers.wake("Lead", t1));
        wakers.notified("Contact").await;
        assert_eq!(wakers.take("Contact"), Some(t2));
        assert_eq!(wakers.take("Contact"), None);
    }
}
