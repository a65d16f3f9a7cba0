//! Lag's content rules: 1 to 2000 characters per message.

use crate::model::MAX_CONTENT_CHARS;
use crate::{Error, Result};

/// Checks `content` against Lag's rule before anything is sent: not blank, at most 2000
/// characters (Unicode scalar values).
///
/// ```
/// use lag_bot::client::check_content;
/// assert!(check_content("hello").is_ok());
/// let err = check_content(&"x".repeat(2001)).unwrap_err();
/// assert_eq!(err.kind(), &lag_bot::ErrorKind::InvalidInput);
/// assert!(err.message().contains("2000"));
/// assert!(check_content("  ").is_err());
/// ```
pub fn check_content(content: &str) -> Result<()> {
    if content.trim().is_empty() {
        return Err(Error::invalid_input(format!(
            "message content is empty; a message holds 1 to {MAX_CONTENT_CHARS} characters"
        )));
    }
    let chars = content.chars().count();
    if chars > MAX_CONTENT_CHARS {
        return Err(Error::invalid_input(format!(
            "message content is {chars} characters; a message holds at most \
             {MAX_CONTENT_CHARS} (split_content cuts long text into messages)"
        )));
    }
    Ok(())
}

/// Cuts `text` into messages of at most 2000 characters each, at line breaks where it can,
/// else at spaces, else mid-word. Pieces keep their text in order; the line break or space a
/// cut falls on is dropped, and blank pieces are skipped.
///
/// ```
/// use lag_bot::client::split_content;
/// assert_eq!(split_content("short"), vec!["short"]);
/// let long = format!("{}\n{}", "a".repeat(1500), "b".repeat(1500));
/// let pieces = split_content(&long);
/// assert_eq!(pieces, vec!["a".repeat(1500), "b".repeat(1500)]);
/// assert!(split_content(" \n ").is_empty());
/// ```
pub fn split_content(text: &str) -> Vec<String> {
    split_content_at(text, MAX_CONTENT_CHARS)
}

pub(crate) fn split_content_at(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        let Some((limit, _)) = rest.char_indices().nth(max_chars) else {
            push_piece(&mut pieces, rest);
            return pieces;
        };
        let window = &rest[..limit];
        let half = window.len() / 2;
        let newline = window.rfind('\n').filter(|&i| i > 0);
        let space = window
            .char_indices()
            .rev()
            .find(|&(i, c)| i > 0 && c.is_whitespace())
            .map(|(i, c)| (i, c.len_utf8()));
        let (cut, skip) = match (newline, space) {
            (Some(i), _) if i >= half => (i, 1),
            (_, Some((i, len))) => (i, len),
            (Some(i), None) => (i, 1),
            (None, None) => (limit, 0),
        };
        push_piece(&mut pieces, &rest[..cut]);
        rest = &rest[cut + skip..];
    }
}

fn push_piece(pieces: &mut Vec<String>, piece: &str) {
    let piece = piece.trim_end_matches(['\n', '\r']);
    if !piece.trim().is_empty() {
        pieces.push(piece.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_pieces(text: &str, max: usize) -> Vec<String> {
        let pieces = split_content_at(text, max);
        for piece in &pieces {
            assert!(piece.chars().count() <= max, "{piece:?} is too long");
            assert!(!piece.trim().is_empty());
        }
        pieces
    }

    #[test]
    fn exact_limit_is_one_piece() {
        let text = "é".repeat(MAX_CONTENT_CHARS);
        assert_eq!(split_content(&text), vec![text.clone()]);
        assert!(check_content(&text).is_ok());
        assert!(check_content(&format!("{text}é")).is_err());
    }

    #[test]
    fn prefers_line_breaks_then_spaces() {
        assert_eq!(
            check_pieces("one two\nthree four", 12),
            vec!["one two", "three four"]
        );
        assert_eq!(
            check_pieces("alpha beta gamma delta", 11),
            vec!["alpha beta", "gamma delta"]
        );
    }

    #[test]
    fn an_early_line_break_does_not_waste_a_piece() {
        assert_eq!(
            check_pieces("ab\ncd ef gh ij", 10),
            vec!["ab\ncd ef", "gh ij"]
        );
    }

    #[test]
    fn long_words_are_cut_on_char_boundaries() {
        let pieces = check_pieces(&"😀".repeat(25), 10);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), "😀".repeat(25));
    }

    #[test]
    fn words_and_lines_survive_in_order() {
        let text: String = (0..3000).map(|i| format!("w{i} ")).collect();
        let pieces = check_pieces(&text, MAX_CONTENT_CHARS);
        assert!(pieces.len() > 1);
        let rejoined: Vec<&str> = pieces.iter().flat_map(|p| p.split_whitespace()).collect();
        let original: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(rejoined, original);
    }

    #[test]
    fn blank_input_gives_no_pieces() {
        assert!(split_content("").is_empty());
        assert!(check_pieces("\n\n\n   \n", 2).is_empty());
    }
}
