//! Server-side query cursors behind `nextRecordsUrl`.
//!
//! "Cursors and their related query results are available for 2 days … There isn't a limit on
//! the number of open cursors" (since API 56.0):
//! <https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html>.
//! The simulator keeps at most [`MAX_OPEN`] so a long benchmark run can't grow without bound; the
//! oldest goes first and then answers `INVALID_QUERY_LOCATOR` like an expired one.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::ids;

const LIFETIME_DAYS: i64 = 2;
const MAX_OPEN: usize = 200;

#[derive(Debug)]
pub struct Cursor {
    /// Every row of the result, already projected; a locator's number is an offset into it.
    pub rows: Vec<Value>,
    pub batch: usize,
    opened: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
    order: VecDeque<String>,
    issued: u64,
}

impl Cursors {
    /// Keeps `rows` for paging; returns the cursor id (`01g…`, 18 characters).
    pub fn open(&mut self, rows: Vec<Value>, batch: usize, now: DateTime<Utc>) -> String {
        self.expire(now);
        while self.order.len() >= MAX_OPEN {
            if let Some(oldest) = self.order.pop_front() {
                self.open.remove(&oldest);
            }
        }
        self.issued += 1;
        let id = ids::generate("01g", self.issued);
        self.open.insert(
            id.clone(),
            Cursor {
                rows,
                batch,
                opened: now,
            },
        );
        self.order.push_back(id.clone());
        id
    }

    /// The cursor and offset a locator (`01g…-2000`) names, when it is still open.
    pub fn find(&mut self, locator: &str, now: DateTime<Utc>) -> Option<(&Cursor, usize, &str)> {
        self.expire(now);
        let (id, offset) = locator.rsplit_once('-')?;
        let offset: usize = offset.parse().ok()?;
        let (key, cursor) = self.open.get_key_value(id)?;
        (offset > 0 && offset < cursor.rows.len()).then_some((cursor, offset, key.as_str()))
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(LIFETIME_DAYS);
        let open = &mut self.open;
        self.order.retain(|id| {
            let alive = open.get(id).is_some_and(|c| c.opened >= horizon);
            if !alive {
                open.remove(id);
            }
            alive
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_resolve_to_offsets_until_they_expire() {
        let now = Utc::now();
        let mut cursors = Cursors::default();
        let id = cursors.open(vec![Value::Null; 5000], 2000, now);
        assert!(id.starts_with("01g") && id.len() == 18);
        let (cursor, offset, _) = cursors.find(&format!("{id}-2000"), now).expect("open");
        assert_eq!((cursor.rows.len(), offset), (5000, 2000));
        assert!(cursors.find(&format!("{id}-5000"), now).is_none());
        assert!(cursors.find(&format!("{id}-0"), now).is_none());
        assert!(cursors.find("01gnope-2000", now).is_none());
        assert!(
            cursors
                .find(&format!("{id}-2000"), now + Duration::days(3))
                .is_none()
        );
    }
}
