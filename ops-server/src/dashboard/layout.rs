//! What every page shares: the document around its body, the navigation, the stylesheet, and how times,
//! durations and ops are written.

use axum::http::header;
use axum::response::IntoResponse;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use ops_core::{OpId, OpState};

use super::session::Viewer;

/// The parts of the dashboard the navigation leads to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Objects,
    Queues,
    Maintainer,
}

/// The page `title`, with `body` as its main content, for `viewer` (who is offered to log out), in no
/// section.
pub(crate) fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    document(title, None, viewer, None, body)
}

/// The page `title` in `section` (which the navigation marks as current), reloading itself every
/// `refresh` seconds when given.
pub(crate) fn document(
    title: &str,
    section: Option<Section>,
    viewer: Option<&Viewer>,
    refresh: Option<u32>,
    body: Markup,
) -> Markup {
    let link = |to: Section, href: &str, name: &str| {
        html! { li { a href=(href) aria-current=[(section == Some(to)).then_some("page")] { (name) } } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " — cluster operations" }
                link rel="stylesheet" href="/dashboard/style.css";
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header {
                    nav aria-label="Dashboard" {
                        a.brand href="/dashboard" { "Cluster operations" }
                        ul {
                            (link(Section::Objects, "/dashboard", "Objects"))
                            (link(Section::Queues, "/dashboard/queues", "Queues"))
                            (link(Section::Maintainer, "/dashboard/maintainer", "Maintainer"))
                        }
                        @if let Some(Viewer(caller)) = viewer {
                            form.logout method="post" action="/dashboard/logout" {
                                span { "Namespace " strong { (caller.namespace) } }
                                " "
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// `GET /dashboard/style.css`.
pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
}

/// Unix seconds as a UTC date and time, in a `<time>` element a reader (or a script) can parse.
pub(crate) fn time(at: f64) -> Markup {
    let (date, clock) = utc(at);
    html! { time datetime={ (date) "T" (clock) "Z" } { (date) " " (clock) } }
}

/// [`time`], or a dash when there is none.
pub(crate) fn maybe_time(at: Option<f64>) -> Markup {
    match at {
        Some(at) => time(at),
        None => none(),
    }
}

/// Now, in unix seconds: the clock of the store's times.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// `(YYYY-MM-DD, HH:MM:SS)` of unix seconds, in UTC.
fn utc(at: f64) -> (String, String) {
    let seconds = at.floor() as i64;
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil: exact for every date of the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        ),
    )
}

/// A length of time, as a person reads it: `0.004 s`, `12.3 s`, `4 min 3 s`, `2 h 5 min`, `3 d 4 h`.
pub(crate) fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0);
    if seconds < 1.0 {
        return format!("{seconds:.3} s");
    }
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds as u64;
    match whole {
        0..3_600 => format!("{} min {} s", whole / 60, whole % 60),
        3_600..86_400 => format!("{} h {} min", whole / 3_600, whole % 3_600 / 60),
        _ => format!("{} d {} h", whole / 86_400, whole % 86_400 / 3_600),
    }
}

/// An op's state as a badge: its name, in a class the stylesheet colours (and never by colour alone).
pub(crate) fn state_badge(state: Option<OpState>) -> Markup {
    match state {
        Some(state) => {
            html! { span class={ "state state-" (state.as_str()) } { (state.as_str()) } }
        }
        None => html! { span class="state state-gone" { "gone" } },
    }
}

/// A link to an op's page, named by its type and the start of its uuid (the whole uuid in its title).
pub(crate) fn op_link(op_type: &str, op: OpId) -> Markup {
    let uuid = op.to_string();
    html! {
        a href={ "/dashboard/ops/" (uuid) } title=(uuid) {
            (op_type) " " code { (uuid.get(..8).unwrap_or(&uuid)) }
        }
    }
}

/// JSON, indented, in a `<pre>`.
pub(crate) fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! { pre.json { (text) } }
}

/// A non-breaking em dash, for a cell with nothing in it.
pub(crate) fn none() -> Markup {
    html! { span.none { (PreEscaped("&mdash;")) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_read_as_utc_dates_and_times() {
        assert_eq!(utc(0.0), ("1970-01-01".to_owned(), "00:00:00".to_owned()));
        assert_eq!(
            utc(951_782_400.0),
            ("2000-02-29".to_owned(), "00:00:00".to_owned())
        );
        assert_eq!(
            utc(1_796_046_903.61),
            ("2026-11-30".to_owned(), "13:55:03".to_owned())
        );
        assert_eq!(utc(-1.0), ("1969-12-31".to_owned(), "23:59:59".to_owned()));
    }

    #[test]
    fn durations_read_in_the_largest_units_that_fit() {
        assert_eq!(duration(0.0043), "0.004 s");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(243.0), "4 min 3 s");
        assert_eq!(duration(7_500.0), "2 h 5 min");
        assert_eq!(duration(273_600.0), "3 d 4 h");
        assert_eq!(duration(-5.0), "0.000 s");
    }
}
