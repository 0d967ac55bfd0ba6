//! `GET /`: the capabilities page. Shaken Fist's client fetches it once, without a token, and tests each
//! capability it needs by a substring match on it, so each is listed exactly when it is served.

use axum::response::Html;

/// The capabilities served, by group, as `GET /` lists them.
pub(crate) const CAPABILITIES: &[(&str, &[&str])] = &[
    ("authentication", &["auth", "scope-enforcement"]),
    (
        "cluster-operations",
        &[
            "get-cluster-operations",
            "cluster-operation-chain",
            "cluster-operations-by-target",
        ],
    ),
    (
        "objects",
        &[
            "artifact-clusteroperations",
            "instance-clusteroperations",
            "network-clusteroperations",
            "object-pending-operations",
            "network-delete-async",
        ],
    ),
    ("schemas", &["operation-schemas"]),
];

/// The page: one `<li>group: cap, cap</li>` line per group.
#[utoipa::path(get, path = "/", tag = "meta", responses(
    (status = 200, description = "The capabilities page: one `<li>group: capability, ...</li>` line per group", content_type = "text/html", body = String)
))]
pub(crate) async fn page() -> Html<String> {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><title>ops-server</title></head><body>\n\
         <h1>ops-server</h1>\n<p>Shaken Fist's REST API for cluster operations.</p>\n<ul>\n",
    );
    for (group, capabilities) in CAPABILITIES {
        html.push_str(&format!("<li>{group}: {}</li>\n", capabilities.join(", ")));
    }
    html.push_str("</ul>\n</body></html>\n");
    Html(html)
}
