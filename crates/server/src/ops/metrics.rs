//! The Prometheus metrics: request counters and latency by route, imports, and gauges read
//! when scraped (pool, engine, alerts, backup age).

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use healthplan_app::App;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ImportLabels {
    kind: String,
    outcome: String,
}

/// Routes (POST) through which files come in, and what they bring.
const IMPORT_ROUTES: [(&str, &str); 5] = [
    ("/api/v1/plans/import", "plan"),
    ("/plans/import", "plan"),
    ("/api/v1/exchange/values", "values"),
    ("/exchange/values", "values"),
    ("/rounds/{id}/template", "template"),
];

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric of one server process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    imports: Family<ImportLabels, Counter>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    engine_bytes: Gauge,
    engine_elements: Gauge,
    engine_values_loaded: Gauge,
    alerts: Gauge,
    backup_age: Gauge<f64, AtomicU64>,
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("healthplan");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            latency.clone(),
        );
        let imports = Family::<ImportLabels, Counter>::default();
        registry.register(
            "imports",
            "Plan documents and data files received, by kind and outcome",
            imports.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let pool_connections = gauge(
            &mut registry,
            "db_pool_connections",
            "Open database connections",
        );
        let pool_idle = gauge(&mut registry, "db_pool_idle", "Idle database connections");
        let engine_bytes = gauge(
            &mut registry,
            "engine_bytes",
            "Heap held by the analytics engine",
        );
        let engine_elements = gauge(
            &mut registry,
            "engine_elements",
            "Data elements in the analytics engine",
        );
        let engine_values_loaded = gauge(
            &mut registry,
            "engine_values_loaded",
            "Values the analytics engine loaded at start-up or its last rebuild",
        );
        let alerts = gauge(
            &mut registry,
            "alerts_raised",
            "Alerts raised (all time, this database)",
        );
        let backup_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "backup_age_seconds",
            "Seconds since the last successful backup (-1: none yet)",
            backup_age.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            imports,
            pool_connections,
            pool_idle,
            engine_bytes,
            engine_elements,
            engine_values_loaded,
            alerts,
            backup_age,
        }
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let route_labels = RouteLabels {
            method: method.to_string(),
            route: route.to_string(),
        };
        self.latency.get_or_create(&route_labels).observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method: route_labels.method,
                route: route_labels.route,
                status: status.to_string(),
            })
            .inc();
        if method == "POST" {
            if let Some((_, kind)) = IMPORT_ROUTES.iter().find(|(r, _)| *r == route) {
                let outcome = if status < 400 { "ok" } else { "refused" };
                self.imports
                    .get_or_create(&ImportLabels {
                        kind: kind.to_string(),
                        outcome: outcome.to_string(),
                    })
                    .inc();
            }
        }
    }

    /// Reads the gauges and writes everything in the text format.
    pub async fn render(&self, app: &App) -> Result<String, healthplan_app::store::StoreError> {
        let store = app.store();
        let pool = store.pool_state().await?;
        self.pool_connections.set(i64::from(pool.size));
        self.pool_idle.set(pool.idle as i64);
        {
            let engine = app.engine();
            self.engine_bytes.set(engine.heap_bytes() as i64);
            self.engine_elements.set(engine.element_count() as i64);
        }
        self.engine_values_loaded
            .set(app.load_report().values as i64);
        self.alerts.set(store.alert_count().await?);
        let age = store
            .last_operation(healthplan_app::store::BACKUP_ENTITY)
            .await?
            .and_then(|e| healthplan_app::store::parse_utc(&e.at))
            .map_or(-1.0, |at| {
                jiff::Timestamp::now().duration_since(at).as_secs_f64()
            });
        self.backup_age.set(age);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        Ok(text)
    }
}

/// Counts every request and times it, by the route pattern that answered it (so ids in
/// paths do not make a label each).
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}
