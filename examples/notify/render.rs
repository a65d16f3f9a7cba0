//! What the outside services send, and the short messages the robot posts for it.
//!
//! Only the fields a message needs are read, each with a default where the sender may leave
//! it out, so that a payload with fields added later still renders; a payload without what
//! identifies it (a push without its repository, an alert group without alerts) is refused.

use std::collections::BTreeMap;

use serde::Deserialize;

/// How many commits or alerts one message lists before it says how many more there are.
const LISTED: usize = 5;

/// What a delivery turned into.
#[derive(Debug, PartialEq, Eq)]
pub enum Rendered {
    /// A message to post.
    Post(String),
    /// A delivery that is understood and deliberately not posted (a GitHub `ping`, a pull
    /// request being labelled): the reason, for the sender's log.
    Ignore(String),
}

// ----- generic ---------------------------------------------------------------------------

/// `POST /notify`: a message for a room, from anything that can send JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generic {
    /// The room, by name (`general`, `#general`) or id; the configured room when left out.
    #[serde(default)]
    pub room: Option<String>,
    /// The text to post.
    pub text: String,
}

// ----- GitHub ------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
}

#[derive(Debug, Default, Deserialize)]
struct Account {
    #[serde(default)]
    login: String,
}

#[derive(Debug, Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    reference: String,
    repository: Repository,
    #[serde(default)]
    sender: Account,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    compare: String,
    #[serde(default)]
    commits: Vec<Commit>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    id: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct PullRequestEvent {
    action: String,
    number: u64,
    pull_request: PullRequest,
    repository: Repository,
    #[serde(default)]
    sender: Account,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    title: String,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    merged: bool,
    #[serde(default)]
    user: Account,
}

#[derive(Debug, Deserialize)]
struct WorkflowRunEvent {
    action: String,
    workflow_run: WorkflowRun,
    repository: Repository,
}

#[derive(Debug, Deserialize)]
struct WorkflowRun {
    #[serde(default)]
    name: String,
    #[serde(default)]
    head_branch: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    run_number: u64,
    #[serde(default)]
    html_url: String,
}

/// Renders a GitHub webhook delivery of type `event` (the `X-GitHub-Event` header).
///
/// # Errors
///
/// A message for the sender when the event type is not one this robot handles, or the body
/// is not a payload of that type.
pub fn github(event: &str, body: &[u8]) -> Result<Rendered, String> {
    fn parse<'a, T: Deserialize<'a>>(event: &str, body: &'a [u8]) -> Result<T, String> {
        serde_json::from_slice(body).map_err(|e| format!("not a GitHub {event} payload: {e}"))
    }
    match event {
        "ping" => Ok(Rendered::Ignore("ping: the webhook is set up".to_owned())),
        "push" => Ok(push(parse(event, body)?)),
        "pull_request" => Ok(pull_request(parse(event, body)?)),
        "workflow_run" => Ok(workflow_run(parse(event, body)?)),
        other => Err(format!(
            "GitHub event {other:?} is not handled here: send push, pull_request or \
             workflow_run events"
        )),
    }
}

fn push(push: Push) -> Rendered {
    let repo = &push.repository.full_name;
    let who = &push.sender.login;
    let (kind, name) = match push.reference.strip_prefix("refs/tags/") {
        Some(tag) => ("tag", tag),
        None => (
            "branch",
            push.reference
                .strip_prefix("refs/heads/")
                .unwrap_or(&push.reference),
        ),
    };
    if push.deleted {
        return Rendered::Post(format!("{who} deleted {kind} {name} in {repo}."));
    }
    if kind == "tag" {
        return Rendered::Post(format!("{who} pushed tag **{name}** to {repo}."));
    }
    if push.commits.is_empty() {
        let what = if push.created { "created" } else { "updated" };
        return Rendered::Post(format!("{who} {what} branch {name} in {repo}."));
    }
    let count = push.commits.len();
    let forced = if push.forced { "force-" } else { "" };
    let mut text = format!(
        "{who} {forced}pushed {count} commit{} to {repo} {name}:",
        plural(count)
    );
    for commit in push.commits.iter().take(LISTED) {
        let short: String = commit.id.chars().take(7).collect();
        let title = commit.message.lines().next().unwrap_or_default();
        text.push_str(&format!("\n• {short} {}", clip(title, 72)));
    }
    more(&mut text, count);
    if !push.compare.is_empty() {
        text.push_str(&format!("\n{}", push.compare));
    }
    Rendered::Post(text)
}

fn pull_request(event: PullRequestEvent) -> Rendered {
    let pr = &event.pull_request;
    let repo = &event.repository.full_name;
    let what = match event.action.as_str() {
        "opened" => "opened",
        "reopened" => "reopened",
        "ready_for_review" => "marked ready for review",
        "closed" if pr.merged => "merged",
        "closed" => "closed",
        other => return Rendered::Ignore(format!("pull_request.{other}")),
    };
    let who = if event.action == "opened" {
        &pr.user.login
    } else {
        &event.sender.login
    };
    Rendered::Post(format!(
        "{who} {what} pull request #{} in {repo}: **{}**\n{}",
        event.number,
        clip(&pr.title, 120),
        pr.html_url
    ))
}

fn workflow_run(event: WorkflowRunEvent) -> Rendered {
    if event.action != "completed" {
        return Rendered::Ignore(format!("workflow_run.{}", event.action));
    }
    let run = &event.workflow_run;
    let (mark, outcome) = match run.conclusion.as_deref() {
        Some("success") => ("✅", "succeeded"),
        Some("failure") => ("❌", "failed"),
        Some("cancelled") => ("⏹", "was cancelled"),
        Some("timed_out") => ("⏱", "timed out"),
        Some(other) => ("•", other),
        None => ("•", "finished"),
    };
    let branch = run
        .head_branch
        .as_deref()
        .map(|b| format!(" on {b}"))
        .unwrap_or_default();
    Rendered::Post(format!(
        "{mark} {} #{} {outcome} in {}{branch}\n{}",
        run.name, run.run_number, event.repository.full_name, run.html_url
    ))
}

// ----- Alertmanager -------------------------------------------------------------------------

/// Alertmanager's webhook payload (version 4): one group of alerts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertGroup {
    status: String,
    alerts: Vec<Alert>,
    #[serde(default)]
    group_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_labels: BTreeMap<String, String>,
    #[serde(default)]
    truncated_alerts: usize,
}

#[derive(Debug, Deserialize)]
struct Alert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Renders an Alertmanager webhook delivery: its firing alerts, then its resolved ones.
///
/// # Errors
///
/// A message for the sender when the body is not an Alertmanager payload.
pub fn alertmanager(body: &[u8]) -> Result<Rendered, String> {
    let group: AlertGroup = serde_json::from_slice(body)
        .map_err(|e| format!("not an Alertmanager webhook payload: {e}"))?;
    if group.alerts.is_empty() {
        return Err("an Alertmanager payload with no alerts".to_owned());
    }
    if !matches!(group.status.as_str(), "firing" | "resolved") {
        return Err(format!(
            "Alertmanager status {:?} is neither firing nor resolved",
            group.status
        ));
    }
    let name = group
        .group_labels
        .get("alertname")
        .or_else(|| group.common_labels.get("alertname"))
        .or_else(|| group.alerts[0].labels.get("alertname"))
        .map_or("alerts", String::as_str);
    let context: Vec<String> = group
        .group_labels
        .iter()
        .filter(|(key, _)| *key != "alertname")
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let context = if context.is_empty() {
        String::new()
    } else {
        format!(" · {}", context.join(", "))
    };
    let mut blocks = Vec::new();
    for (status, mark, title) in [("firing", "🔥", "FIRING"), ("resolved", "✅", "RESOLVED")] {
        let alerts: Vec<&Alert> = group.alerts.iter().filter(|a| a.status == status).collect();
        if alerts.is_empty() {
            continue;
        }
        let mut count = alerts.len();
        if status == group.status {
            count += group.truncated_alerts;
        }
        let mut block = format!(
            "{mark} {title}: {name} ({count} alert{}){context}",
            plural(count)
        );
        for alert in alerts.iter().take(LISTED) {
            block.push_str(&format!("\n• {}", alert_line(alert, &group.common_labels)));
        }
        more(&mut block, count);
        blocks.push(block);
    }
    if blocks.is_empty() {
        return Err("an Alertmanager payload whose alerts are neither firing nor resolved".into());
    }
    Ok(Rendered::Post(blocks.join("\n")))
}

/// One alert: where (its instance, or the labels that tell it from the others in the group)
/// and what (its summary or description).
fn alert_line(alert: &Alert, common: &BTreeMap<String, String>) -> String {
    let place = alert.labels.get("instance").cloned().unwrap_or_else(|| {
        let own: Vec<String> = alert
            .labels
            .iter()
            .filter(|(key, value)| common.get(*key) != Some(value))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        own.join(", ")
    });
    let what = alert
        .annotations
        .get("summary")
        .or_else(|| alert.annotations.get("description"))
        .map(|text| clip(text, 140));
    match (place.is_empty(), what) {
        (false, Some(what)) => format!("{place}: {what}"),
        (true, Some(what)) => what,
        (false, None) => place,
        (true, None) => "(no labels)".to_owned(),
    }
}

// ----- helpers -----------------------------------------------------------------------------

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn more(text: &mut String, count: usize) {
    if count > LISTED {
        text.push_str(&format!("\n…and {} more", count - LISTED));
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
