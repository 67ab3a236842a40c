//! The web pages: server-rendered templates with htmx, in Chinese first with an English switch.

pub mod upload;

use crate::state::AppState;
use axum::Router;
use std::sync::Arc;

/// The compiled templates.
pub struct Views {}

impl Views {
    pub fn new() -> Views {
        Views {}
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
}
