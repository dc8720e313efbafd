//! Newsroom accounts: roles and what each may do, e-mail addresses, password rules.

use std::fmt;
use std::str::FromStr;

use super::ArticleStatus;

/// A staff member's role. Checked on the server for every admin action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Writes drafts and submits them for review; cannot publish or touch others' work.
    Contributor,
    /// Writes, edits and publishes their own articles.
    Author,
    /// All articles, sections, tags and comments.
    Editor,
    /// Everything, including users and settings.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Administrator, Role::Editor, Role::Author, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contributor => "contributor",
            Self::Author => "author",
            Self::Editor => "editor",
            Self::Administrator => "administrator",
        }
    }

    /// May this role open and change an article, given whether the user owns it?
    pub fn can_edit(self, owns: bool) -> bool {
        self >= Role::Editor || owns
    }

    /// May this role change an article (its text, its picture) that is now in `status`?
    /// Contributors hand an article over when they submit it: once an editor has it (scheduled,
    /// published, unpublished), it is no longer theirs to change.
    pub fn can_change(self, status: &str, owns: bool) -> bool {
        self.can_edit(owns) && (self >= Role::Author || matches!(status, "draft" | "pending"))
    }

    /// May this role move an article it can edit into `status`?
    pub fn can_set_status(self, status: ArticleStatus, owns: bool) -> bool {
        if !self.can_edit(owns) {
            return false;
        }
        match status {
            ArticleStatus::Draft | ArticleStatus::Pending => true,
            ArticleStatus::Published | ArticleStatus::Scheduled | ArticleStatus::Unpublished => {
                self >= Role::Author
            }
            ArticleStatus::Trashed => self >= Role::Author,
        }
    }

    /// May this role decide what stays at the top of the front page (sticky articles)?
    pub fn can_set_sticky(self) -> bool {
        self >= Role::Editor
    }

    /// May this role see every article in the admin list (or only its own)?
    pub fn sees_all_articles(self) -> bool {
        self >= Role::Editor
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown role {s:?}: use administrator, editor, author or contributor"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A syntactically plausible e-mail address, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !domain.contains('@')
            });
        if valid { Ok(Self(s)) } else { Err(format!("{s:?} is not an e-mail address")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Password rule: long enough to resist guessing, short enough to hash quickly.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 10 {
        return Err("the password must have at least 10 characters".into());
    }
    if password.len() > 1024 {
        return Err("the password must have at most 1024 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_what_they_may_do() {
        use ArticleStatus::*;
        assert!(!Role::Contributor.can_set_status(Published, true));
        assert!(Role::Contributor.can_set_status(Pending, true));
        assert!(!Role::Contributor.can_edit(false));
        assert!(Role::Author.can_set_status(Published, true));
        assert!(!Role::Author.can_set_status(Published, false));
        assert!(Role::Editor.can_set_status(Scheduled, false));
        assert!(Role::Administrator.sees_all_articles() && !Role::Author.sees_all_articles());
        assert_eq!("Editor".parse::<Role>().unwrap(), Role::Editor);
        assert!("chief".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@x.com", "a@b", "a b@c.com", "a@.com", "a@b.com.", "a@b@c.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
    }
}
