//! Batch planning: which due work goes next, by which API, and when.
//!
//! Every change waits the batch window after its last update, so that the changes that come
//! with it share its call and several updates of one record are one write. A batch goes when its
//! 200 oldest records (one sObject Collections call) have all waited the window, when no change
//! came for the window (the burst is over), or when its oldest change has waited the maximum lag
//! (changes keep coming). A backlog past the Bulk threshold goes, once quiet or overdue, as one
//! Bulk API 2.0 job: Salesforce's guidance is Bulk above 2,000 records (docs/salesforce.md §5), and
//! a job costs about seven calls whatever its size.

use std::time::Duration;

use crate::config::PushConfig;
use crate::objects::Catalog;
use crate::salesforce::MAX_COLLECTION_RECORDS;
use crate::staging::{DueGroup, ObjectName, Operation};

/// The API a batch goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// sObject Collections: up to 200 records in one call.
    Collection,
    /// A Bulk API 2.0 ingest job.
    Bulk,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Idle,
    /// Batches are still gathering: look again after this long.
    Gather(Duration),
    Push {
        object: ObjectName,
        operation: Operation,
        via: Via,
    },
}

/// Upserts go parents first (catalog order) and a parent's batch holds back its children's, so
/// that a child never reaches Salesforce before the parent it references. Deletions go children
/// first; Salesforce cascades some (an Account takes its Contacts), and a record already gone
/// counts as deleted.
pub fn plan(catalog: &Catalog, due: &[DueGroup], cfg: &PushConfig) -> Plan {
    let find = |object: &ObjectName, op: Operation| {
        due.iter()
            .find(|g| g.operation == op && g.object == *object && g.count > 0)
    };
    let mut gather: Option<Duration> = None;
    let mut wait = |d: Duration| gather = Some(gather.map_or(d, |g| g.min(d)));
    let upserts = catalog
        .iter()
        .filter_map(|o| find(&o.name, Operation::Upsert));
    if let Some(group) = upserts.into_iter().next() {
        match readiness(group, cfg) {
            Ok(via) => return push(group, via),
            Err(d) => wait(d),
        }
    }
    let mut objects: Vec<_> = catalog.iter().collect();
    objects.reverse();
    for group in objects
        .iter()
        .filter_map(|o| find(&o.name, Operation::Delete))
    {
        match readiness(group, cfg) {
            Ok(via) => return push(group, via),
            Err(d) => wait(d),
        }
    }
    gather.map_or(Plan::Idle, Plan::Gather)
}

fn push(group: &DueGroup, via: Via) -> Plan {
    Plan::Push {
        object: group.object.clone(),
        operation: group.operation,
        via,
    }
}

/// Ready now (and how), or how long until it is.
fn readiness(group: &DueGroup, cfg: &PushConfig) -> Result<Via, Duration> {
    let quiet = group.newest >= cfg.batch_window;
    let overdue = group.oldest >= cfg.max_lag;
    if group.count >= u64::from(cfg.bulk_threshold) && (quiet || overdue) {
        return Ok(Via::Bulk);
    }
    let full = group.count >= MAX_COLLECTION_RECORDS as u64;
    let settled = full && group.batch_newest >= cfg.batch_window;
    if settled || quiet || overdue {
        return Ok(Via::Collection);
    }
    let newest = if full {
        group.batch_newest
    } else {
        group.newest
    };
    let until_settled = cfg.batch_window.saturating_sub(newest);
    let until_overdue = cfg.max_lag.saturating_sub(group.oldest);
    Err(until_settled.min(until_overdue))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn cfg() -> PushConfig {
        PushConfig::from_env(&Env::from_pairs(vec![
            ("PUSH_BATCH_WINDOW_MS", "200"),
            ("PUSH_MAX_LAG_MS", "1000"),
            ("PUSH_BULK_THRESHOLD", "2000"),
        ]))
        .unwrap()
    }

    fn group(object: &str, operation: Operation, count: u64, oldest: u64, newest: u64) -> DueGroup {
        DueGroup {
            object: ObjectName::parse(object).unwrap(),
            operation,
            count,
            oldest: Duration::from_millis(oldest),
            newest: Duration::from_millis(newest),
            batch_newest: Duration::from_millis(newest),
        }
    }

    fn pushes(plan: Plan) -> (ObjectName, Operation, Via) {
        match plan {
            Plan::Push {
                object,
                operation,
                via,
            } => (object, operation, via),
            other => panic!("expected a push, got {other:?}"),
        }
    }

    #[test]
    fn a_small_batch_waits_for_the_window_to_be_quiet() {
        let catalog = Catalog::default_set();
        let due = [group("Contact", Operation::Upsert, 10, 150, 50)];
        assert_eq!(
            plan(&catalog, &due, &cfg()),
            Plan::Gather(Duration::from_millis(150))
        );
        let due = [group("Contact", Operation::Upsert, 10, 300, 200)];
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Collection);
    }

    #[test]
    fn continuous_changes_never_wait_past_the_maximum_lag() {
        let catalog = Catalog::default_set();
        let due = [group("Contact", Operation::Upsert, 100, 990, 5)];
        assert_eq!(
            plan(&catalog, &due, &cfg()),
            Plan::Gather(Duration::from_millis(10))
        );
        let due = [group("Contact", Operation::Upsert, 100, 1000, 5)];
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Collection);
    }

    #[test]
    fn a_full_batch_goes_once_its_records_have_waited_the_window() {
        let catalog = Catalog::default_set();
        let mut due = [group("Contact", Operation::Upsert, 450, 400, 0)];
        due[0].batch_newest = Duration::from_millis(150);
        assert_eq!(
            plan(&catalog, &due, &cfg()),
            Plan::Gather(Duration::from_millis(50))
        );
        due[0].batch_newest = Duration::from_millis(200);
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Collection);
    }

    #[test]
    fn a_quiet_or_overdue_backlog_goes_through_bulk() {
        let catalog = Catalog::default_set();
        let mut due = [group("Contact", Operation::Upsert, 5000, 500, 10)];
        due[0].batch_newest = Duration::from_millis(400);
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Collection);
        let due = [group("Contact", Operation::Upsert, 5000, 500, 200)];
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Bulk);
        let due = [group("Contact", Operation::Upsert, 5000, 1000, 0)];
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).2, Via::Bulk);
    }

    #[test]
    fn parents_gathering_hold_back_children_but_not_deletions() {
        let catalog = Catalog::default_set();
        let due = [
            group("Contact", Operation::Upsert, 500, 10, 0),
            group("Account", Operation::Upsert, 3, 10, 0),
            group("Contact", Operation::Delete, 1, 5000, 5000),
        ];
        let (object, operation, _) = pushes(plan(&catalog, &due, &cfg()));
        assert_eq!((object.as_str(), operation), ("Contact", Operation::Delete));
        let due = &due[..2];
        assert_eq!(
            plan(&catalog, due, &cfg()),
            Plan::Gather(Duration::from_millis(200))
        );
    }

    #[test]
    fn deletions_go_children_first() {
        let catalog = Catalog::default_set();
        let due = [
            group("Account", Operation::Delete, 1, 5000, 5000),
            group("Contact", Operation::Delete, 1, 5000, 5000),
        ];
        assert_eq!(pushes(plan(&catalog, &due, &cfg())).0, "Contact");
        assert_eq!(plan(&catalog, &[], &cfg()), Plan::Idle);
    }
}
