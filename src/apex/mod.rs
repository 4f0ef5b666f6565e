//! Endpoints for Salesforce's Apex code, called through a Named Credential.
//!
//! Apex looks up a record's hub state by its Salesforce Id ([`lookup`]), asks for records to be
//! pushed now ([`push_now`]), and sends back records changed in Salesforce ([`from_salesforce`]),
//! which are stored with `origin = 'salesforce'` and never pushed back. Every answer is small and
//! comes from one or two statements, well inside Apex's default 10 s callout timeout
//! (<https://developer.salesforce.com/docs/atlas.en-us.apexcode.meta/apexcode/apex_callouts_timeouts.htm>).

pub mod from_salesforce;
mod incoming;
pub mod lookup;
pub mod push_now;
mod salesforce_id;
mod store;

pub use incoming::MAX_SALESFORCE_RECORDS;
pub use push_now::{MAX_PUSH_NOW_IDS, PushNowRequest, PushNowResponse};
pub use salesforce_id::{InvalidSalesforceId, SalesforceId};
