//! What a line typed in the chat asks for.

/// The chat's commands, as `/help` lists them.
pub(super) const HELP: &str = "\
  type a message to post it in the current room as the current member
  /room [NAME]   switch room (general, welcome, mod-log, or one you create); no NAME lists them
  /as [NAME]     speak as another member (alice, bob, carol, or one who joined); no NAME lists them
  /join NAME     a new member joins the server (member.join)
  /leave NAME    a member leaves the server (member.leave)
  /create NAME   the current member creates a room (room.created)
  /quit          stop the robot once it has been handed everything sent (also Ctrl-D)
  /help          this list
  //text         post a message that starts with /
  Ctrl-C stops the robot at once (it still finishes the events it accepted).";

/// One line of the chat, understood.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Input<'a> {
    /// Nothing to do (an empty line).
    Nothing,
    /// Post this message.
    Say(&'a str),
    /// Switch to a room, or list the rooms.
    Room(Option<&'a str>),
    /// Speak as another member, or list the members.
    As(Option<&'a str>),
    /// A new member joins.
    Join(&'a str),
    /// A member leaves.
    Leave(&'a str),
    /// The current member creates a room.
    Create(&'a str),
    /// Stop the robot.
    Quit,
    /// Show the chat's commands.
    Help,
}

/// Reads one line; `Err` is what to tell the person typing.
pub(super) fn parse(line: &str) -> Result<Input<'_>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Input::Nothing);
    }
    if line.starts_with("//") {
        return Ok(Input::Say(&line[1..]));
    }
    if !line.starts_with('/') {
        return Ok(Input::Say(line));
    }
    let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = rest.trim();
    let name = (!name.is_empty()).then_some(name);
    let needs = |usage: &str| format!("usage: {usage} NAME");
    match command.to_ascii_lowercase().as_str() {
        "/room" => Ok(Input::Room(name.map(|room| room.trim_start_matches('#')))),
        "/as" => Ok(Input::As(name.map(|user| user.trim_start_matches('@')))),
        "/join" => name.map(Input::Join).ok_or_else(|| needs("/join")),
        "/leave" => name
            .map(|user| Input::Leave(user.trim_start_matches('@')))
            .ok_or_else(|| needs("/leave")),
        "/create" => name
            .map(|room| Input::Create(room.trim_start_matches('#')))
            .ok_or_else(|| needs("/create")),
        "/quit" | "/exit" => Ok(Input::Quit),
        "/help" | "/?" => Ok(Input::Help),
        _ => Err(format!(
            "{command} is not a chat command (/help lists them; //text posts text starting with /)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_messages() {
        assert_eq!(parse("!roll 20 3"), Ok(Input::Say("!roll 20 3")));
        assert_eq!(parse("  @Helper ping  "), Ok(Input::Say("@Helper ping")));
        assert_eq!(parse("//shrug"), Ok(Input::Say("/shrug")));
        assert_eq!(parse(""), Ok(Input::Nothing));
        assert_eq!(parse("   "), Ok(Input::Nothing));
    }

    #[test]
    fn commands_with_names() {
        assert_eq!(parse("/room welcome"), Ok(Input::Room(Some("welcome"))));
        assert_eq!(parse("/room #mod-log"), Ok(Input::Room(Some("mod-log"))));
        assert_eq!(parse("/as  bob "), Ok(Input::As(Some("bob"))));
        assert_eq!(parse("/as @carol"), Ok(Input::As(Some("carol"))));
        assert_eq!(parse("/join dave"), Ok(Input::Join("dave")));
        assert_eq!(parse("/leave @bob"), Ok(Input::Leave("bob")));
        assert_eq!(parse("/create #games"), Ok(Input::Create("games")));
        assert_eq!(parse("/JOIN Dave"), Ok(Input::Join("Dave")));
    }

    #[test]
    fn commands_without_names() {
        assert_eq!(parse("/room"), Ok(Input::Room(None)));
        assert_eq!(parse("/as"), Ok(Input::As(None)));
        assert_eq!(parse("/help"), Ok(Input::Help));
        assert_eq!(parse("/quit"), Ok(Input::Quit));
        assert_eq!(parse("/exit"), Ok(Input::Quit));
    }

    #[test]
    fn mistakes_are_explained() {
        assert_eq!(parse("/join"), Err("usage: /join NAME".to_owned()));
        assert_eq!(parse("/leave  "), Err("usage: /leave NAME".to_owned()));
        assert_eq!(parse("/create"), Err("usage: /create NAME".to_owned()));
        let unknown = parse("/kick bob").unwrap_err();
        assert!(
            unknown.starts_with("/kick is not a chat command"),
            "{unknown}"
        );
    }
}
