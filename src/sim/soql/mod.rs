//! A strict subset of SOQL: enough for incremental reads (datetime filters, IsDeleted, Id IN,
//! ORDER BY, LIMIT), refusing everything else with Salesforce's codes.

mod bind;
mod error;
mod exec;
mod lexer;
mod parser;

pub use bind::Bound;
pub use error::SoqlError;
pub use exec::{cells, project, run};

/// Parses and checks `query` against the schema.
pub fn compile(query: &str) -> Result<Bound, SoqlError> {
    bind::bind(query, parser::parse(query)?)
}
