//! The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`.
//!
//! Built from the code at start-up: the paths and methods from [`crate::routes::table`] (the
//! rows the router mounts), the request and answer schemas from the contract types in
//! [`roam_protocol::rest`] (their `ToSchema` derives, behind roam-protocol's `openapi`
//! feature) and the handlers' own body types. Every error is documented as the `default`
//! answer with Easemob's error body. `{org}` and `{app}` are declared with this server's one
//! value each, so a client generated from the document (or a fuzzer such as schemathesis)
//! addresses the right app.
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, ObjectBuilder, OpenApi,
        OpenApiBuilder, Paths, RefOr, Required, ResponseBuilder, Schema, Type,
        path::{OperationBuilder, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
    },
};

use crate::routes::{Route, table};
use roam_protocol::rest::ErrorBody;

const JSON: &str = "application/json";
const BEARER: &str = "bearer";

fn method(m: &axum::http::Method) -> HttpMethod {
    match *m {
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn json_response(description: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, ContentBuilder::new().schema(Some(schema)).build())
        .build()
}

fn error_response() -> utoipa::openapi::Response {
    json_response(
        "an Easemob error: 400 bad input, 401 no valid token, 403 not allowed, 404 not found",
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name())),
    )
}

/// A string parameter in the path; with `only`, the one value it may take.
fn path_param(name: &str, only: Option<&str>) -> utoipa::openapi::path::Parameter {
    let mut schema = ObjectBuilder::new().schema_type(Type::String);
    if let Some(v) = only {
        schema = schema.enum_values(Some([v]));
    } else {
        schema = schema.min_length(Some(1));
    }
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}

fn params_of(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn operation(
    (org, app): (&str, &str),
    route: &Route,
    components: &mut Vec<(String, RefOr<Schema>)>,
) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .summary(Some(route.summary))
        .operation_id(Some(format!("{} {}", route.method, route.path)))
        .response(
            "200",
            json_response("success", (route.response)(components)),
        )
        .response("default", error_response());
    for name in params_of(route.path) {
        let only = match name {
            "org" => Some(org),
            "app" => Some(app),
            _ => None,
        };
        op = op.parameter(path_param(name, only));
    }
    if let Some(request) = route.request {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    JSON,
                    ContentBuilder::new()
                        .schema(Some(request(components)))
                        .build(),
                )
                .build(),
        ));
    }
    if route.token {
        op = op.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
    }
    op.build()
}

/// An operation without a token whose answer is a small JSON object.
fn probe(summary: &str, statuses: &[(&str, &str)]) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .summary(Some(summary))
        .operation_id(Some(summary));
    for (status, description) in statuses {
        op = op.response(
            *status,
            json_response(
                description,
                RefOr::T(Schema::Object(
                    ObjectBuilder::new().schema_type(Type::Object).build(),
                )),
            ),
        );
    }
    op.build()
}

/// The whole document for the app `org#app`.
pub fn document(org: &str, app: &str) -> OpenApi {
    let mut components = Vec::new();
    ErrorBody::schemas(&mut components);
    components.push((ErrorBody::name().into_owned(), ErrorBody::schema()));
    let mut paths = Paths::new();
    for route in table() {
        let op = operation((org, app), &route, &mut components);
        paths.add_path_operation(route.path, vec![method(&route.method)], op);
    }
    let up = [
        ("200", "serving"),
        (
            "503",
            "the store (or, for /ready, another dependency) does not answer",
        ),
    ];
    paths.add_path_operation("/health", vec![HttpMethod::Get], probe("health", &up));
    paths.add_path_operation("/ready", vec![HttpMethod::Get], probe("ready", &up));
    paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        probe("openapi", &[("200", "this document")]),
    );
    let components = ComponentsBuilder::new()
        .schemas_from_iter(components)
        .security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Roam REST API (Easemob-compatible)")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn refs(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    out.insert(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    fn doc() -> serde_json::Value {
        serde_json::to_value(document("roam", "demo")).expect("the document serializes")
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let mut found = BTreeSet::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        let missing: Vec<_> = found
            .iter()
            .filter(|r| {
                let name = r.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"].get(name).is_none()
            })
            .collect();
        assert!(missing.is_empty(), "unresolved: {missing:?}");
    }

    #[test]
    fn every_route_is_described_with_its_app() {
        let doc = doc();
        for route in table() {
            let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
            assert!(op.is_object(), "{} {} missing", route.method, route.path);
            let org = op["parameters"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == "org"))
                .expect("an org parameter");
            assert_eq!(org["schema"]["enum"], serde_json::json!(["roam"]));
            assert_eq!(op["security"].is_array(), route.token, "{}", route.path);
        }
    }
}
