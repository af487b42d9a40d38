//! Setup's contacts step: who Sori can message, how (email, Matrix, a webhook) and, the first
//! time a way is used, the server it goes through.

use sori::config::Config;
use sori::config::edit::{Setting, string, strings};

use super::prompt::Prompter;

/// A contact as given on the command line: `NAME[|ALIAS…]=BACKEND:ADDRESS`, e.g.
/// `Mom|엄마|Mother=email:mom@example.com`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactFlag {
    pub name: String,
    pub aliases: Vec<String>,
    pub backend: String,
    pub address: String,
}

pub fn parse_contact(s: &str) -> Result<ContactFlag, String> {
    let usage = "use NAME[|ALIAS…]=BACKEND:ADDRESS, e.g. 'Mom|엄마=email:mom@example.com'";
    let (names, target) = s.split_once('=').ok_or_else(|| format!("`{s}`: {usage}"))?;
    let (backend, address) = target
        .split_once(':')
        .ok_or_else(|| format!("`{s}`: {usage}"))?;
    let mut names = names.split('|').map(str::trim).filter(|n| !n.is_empty());
    let name = names
        .next()
        .ok_or_else(|| format!("`{s}`: no name; {usage}"))?;
    let c = ContactFlag {
        name: name.to_string(),
        aliases: names.map(str::to_string).collect(),
        backend: backend.trim().to_string(),
        address: address.trim().to_string(),
    };
    check_address(&c.backend, &c.address)?;
    Ok(c)
}

fn check_address(backend: &str, address: &str) -> Result<(), String> {
    match backend {
        "email" => {
            let ok = address
                .split_once('@')
                .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
            if ok {
                Ok(())
            } else {
                Err(format!("`{address}` is not an email address"))
            }
        }
        "matrix" if address.starts_with('@') && address.contains(':') => Ok(()),
        "matrix" => Err(format!(
            "`{address}` is not a Matrix user id; it looks like @name:example.org"
        )),
        "webhook" if !address.is_empty() => Ok(()),
        "webhook" => Err("give the webhook's name (or its URL)".into()),
        other => Err(format!(
            "unknown way `{other}`: use email, matrix or webhook"
        )),
    }
}

pub fn entry(c: &ContactFlag) -> Setting {
    let aliases = if c.aliases.is_empty() {
        String::new()
    } else {
        format!("aliases = {}, ", strings(&c.aliases))
    };
    Setting::entry(
        "messaging.contacts",
        &c.name,
        format!(
            "{{ {aliases}backend = {}, address = {} }}",
            string(&c.backend),
            string(&c.address)
        ),
    )
}

/// Adds contacts (from flags, then asked), and the server settings a new way needs.
pub fn run(
    p: &mut Prompter,
    cfg: &mut Config,
    flags: &[ContactFlag],
) -> anyhow::Result<Vec<Setting>> {
    let mut out = Vec::new();
    if cfg.messaging.contacts.is_empty() {
        p.say(
            "Sori can send a message you dictate (\"send a message to Mom saying I'm on my way\") \
             by email, Matrix or a webhook (ntfy, Slack, Home Assistant).",
        );
    } else {
        let names: Vec<&str> = cfg.messaging.contacts.keys().map(String::as_str).collect();
        p.say(format!("Contacts so far: {}", names.join(", ")));
    }
    for c in flags {
        out.extend(add(p, cfg, c.clone())?);
    }
    if !p.assume_yes() {
        // Each contact's server is asked right after it, the first time its way is used.
        while p.yes(
            "Add a contact?",
            cfg.messaging.contacts.is_empty() && flags.is_empty(),
        )? {
            let c = ask_contact(p)?;
            out.extend(add(p, cfg, c)?);
        }
    }
    Ok(out)
}

/// The settings for one contact and the server its way needs; `cfg` learns both.
fn add(p: &mut Prompter, cfg: &mut Config, mut c: ContactFlag) -> anyhow::Result<Vec<Setting>> {
    let mut out = servers(p, cfg, &mut c)?;
    p.say(format!(
        "  {} ({}) by {} to {}",
        c.name,
        if c.aliases.is_empty() {
            "no other names".to_string()
        } else {
            c.aliases.join(", ")
        },
        c.backend,
        c.address
    ));
    out.push(entry(&c));
    cfg.messaging.contacts.insert(
        c.name.clone(),
        sori::config::messaging::Contact {
            aliases: c.aliases.clone(),
            backend: c.backend.clone(),
            address: c.address.clone(),
        },
    );
    Ok(out)
}

fn ask_contact(p: &mut Prompter) -> anyhow::Result<ContactFlag> {
    let name = p.ask_valid("Name Sori says (e.g. Mom)", "", |a| {
        if a.is_empty() {
            Err("a name, please".to_string())
        } else {
            Ok(a.to_string())
        }
    })?;
    let aliases: Vec<String> = p
        .ask(
            &format!("Other names for {name}, comma-separated (e.g. 엄마, Mother)"),
            "",
        )?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let ways = [
        "email".to_string(),
        "matrix (a Matrix user, e.g. on Element)".to_string(),
        "webhook (ntfy, Slack, Home Assistant: an HTTP POST)".to_string(),
    ];
    let backend = ["email", "matrix", "webhook"]
        [p.choose(&format!("How does {name} get messages?"), &ways, 0)?];
    let question = match backend {
        "email" => "Email address",
        "matrix" => "Matrix user id (@name:server)",
        _ => "Webhook URL (or the name of one in [messaging.webhooks])",
    };
    let address = p.ask_valid(question, "", |a| {
        check_address(backend, a).map(|()| a.to_string())
    })?;
    Ok(ContactFlag {
        name,
        aliases,
        backend: backend.into(),
        address,
    })
}

/// Settings for the server a contact's way needs, asked when it is not set up yet.
fn servers(
    p: &mut Prompter,
    cfg: &mut Config,
    c: &mut ContactFlag,
) -> anyhow::Result<Vec<Setting>> {
    let mut out = Vec::new();
    match c.backend.as_str() {
        "email" if cfg.messaging.email.smtp_host.is_empty() => {
            p.say("Email goes out through an SMTP server (your mail provider's, e.g. smtp.gmail.com).");
            let host = p.ask_valid("SMTP server", "", |a| {
                if a.is_empty() || a.contains(' ') {
                    Err("a host name, e.g. smtp.example.com".to_string())
                } else {
                    Ok(a.to_string())
                }
            })?;
            let port: u16 = p.ask_valid("Port (587 STARTTLS, 465 TLS)", "587", |a| {
                a.parse().map_err(|_| "a port number".to_string())
            })?;
            let security = match (port, host.as_str()) {
                (465, _) => "tls",
                (_, "localhost" | "127.0.0.1") => "none",
                _ => "starttls",
            };
            let user = p.ask("User name (empty: none)", "")?;
            let from = p.ask(
                "Sender address",
                if user.contains('@') { &user } else { "" },
            )?;
            let password = p.secret("Password (empty: read SORI_SMTP_PASSWORD)")?;
            cfg.messaging.email.smtp_host = host.clone();
            out.push(Setting::new("messaging.email.smtp_host", string(&host)));
            out.push(Setting::new("messaging.email.smtp_port", port.to_string()));
            out.push(Setting::new("messaging.email.security", string(security)));
            for (key, v) in [("username", &user), ("from", &from)] {
                if !v.is_empty() {
                    out.push(Setting::new(&format!("messaging.email.{key}"), string(v)));
                }
            }
            if !password.is_empty() {
                out.push(Setting::new("messaging.email.password", string(&password)));
            }
        }
        "matrix" if cfg.messaging.matrix.homeserver.is_empty() => {
            p.say("Sori sends Matrix messages from its own account (make one on your homeserver).");
            let hs = p.ask_valid("Homeserver URL", "", |a| {
                if a.starts_with("https://") || a.starts_with("http://") {
                    Ok(a.trim_end_matches('/').to_string())
                } else {
                    Err("a URL, e.g. https://matrix.example.org".to_string())
                }
            })?;
            let user = p.ask_valid("Sori's Matrix user id", "", |a| {
                check_address("matrix", a).map(|()| a.to_string())
            })?;
            let password = p.secret("Its password (empty: read SORI_MATRIX_PASSWORD)")?;
            cfg.messaging.matrix.homeserver = hs.clone();
            cfg.messaging.matrix.user = user.clone();
            out.push(Setting::new("messaging.matrix.homeserver", string(&hs)));
            out.push(Setting::new("messaging.matrix.user", string(&user)));
            if !password.is_empty() {
                out.push(Setting::new("messaging.matrix.password", string(&password)));
            }
        }
        "webhook" if c.address.starts_with("http://") || c.address.starts_with("https://") => {
            // A URL: it becomes a webhook named after the contact.
            let name: String = c
                .name
                .to_lowercase()
                .chars()
                .map(|ch| if ch.is_alphanumeric() { ch } else { '-' })
                .collect();
            let template = sori::config::messaging::Webhook::default().template;
            out.push(Setting::entry(
                "messaging.webhooks",
                &name,
                format!(
                    "{{ url = {}, template = {} }}",
                    string(&c.address),
                    string(&template)
                ),
            ));
            cfg.messaging.webhooks.insert(
                name.clone(),
                sori::config::messaging::Webhook {
                    url: c.address.clone(),
                    ..Default::default()
                },
            );
            c.address = name;
        }
        "webhook" if !cfg.messaging.webhooks.contains_key(&c.address) => {
            anyhow::bail!(
                "contact {}: no webhook `{}` in [messaging.webhooks]; give its URL instead",
                c.name,
                c.address
            );
        }
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_flags() {
        let c = parse_contact("Mom|엄마|Mother=email:mom@example.com").unwrap();
        assert_eq!(c.name, "Mom");
        assert_eq!(c.aliases, ["엄마", "Mother"]);
        assert_eq!(
            (c.backend.as_str(), c.address.as_str()),
            ("email", "mom@example.com")
        );
        let c = parse_contact("Jisoo=matrix:@jisoo:example.org").unwrap();
        assert_eq!(c.address, "@jisoo:example.org");
        assert!(parse_contact("Mom").unwrap_err().contains("NAME"));
        assert!(
            parse_contact("Mom=email:mom")
                .unwrap_err()
                .contains("email address")
        );
        assert!(
            parse_contact("Mom=fax:123")
                .unwrap_err()
                .contains("unknown way")
        );
        assert!(
            parse_contact("=email:a@b.c")
                .unwrap_err()
                .contains("no name")
        );
    }

    #[test]
    fn contacts_are_written_as_inline_tables() {
        let c = parse_contact("Jisoo Kim|지수=webhook:family").unwrap();
        let s = entry(&c);
        assert_eq!(s.section, "messaging.contacts");
        assert_eq!(
            s.value,
            "{ aliases = [\"지수\"], backend = \"webhook\", address = \"family\" }"
        );
    }
}
