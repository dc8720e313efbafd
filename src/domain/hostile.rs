//! Bodies that grow one construct to a given size (nesting, repetition, long tokens): what a
//! careless paste or a hostile colleague can send through the editor or the API. The fuzz test
//! (`tests/it/bounded_work.rs`) checks that rendering each grows linearly; the render bench
//! (`benches/render.rs`) times each at 1 MB against its budget.

/// `(name, body of about `n` bytes)` for every construct.
pub fn constructs(n: usize) -> Vec<(&'static str, String)> {
    let rep = |unit: &str| unit.repeat((n / unit.len()).max(1));
    vec![
        ("quotes >>>", ">".repeat(n) + " x"),
        ("quotes > > >", rep("> ") + "x"),
        ("lists - - -", rep("- ") + "x"),
        ("lists 1. 1.", rep("1. ") + "x"),
        ("quotes and lists", rep("> - ") + "x"),
        ("indented lists", (0..n / 400 + 1).map(|i| format!("{}- x\n", "  ".repeat(i % 400))).collect()),
        ("emphasis *", rep("*") + "x"),
        ("emphasis *a", rep("*a ")),
        ("emphasis _a", rep("_a ")),
        ("strikethrough", rep("~~a ")),
        ("brackets [", rep("[") + "x"),
        ("images ![", rep("![")),
        ("links [a](", rep("[a](")),
        ("links [a](<", rep("[a](<")),
        (
            "link references",
            (0..n / 20).map(|i| format!("[r{i}]: /u{i}\n")).collect::<String>() + &rep("[r1] "),
        ),
        ("autolinks <http", rep("<http://a")),
        ("backticks", rep("`")),
        ("code fences", rep("```\n")),
        ("headings #", rep("# x\n")),
        ("setext headings", rep("x\n=\n")),
        ("table columns", format!("|{}\n|{}\n", rep("a|"), rep("-|"))),
        ("table rows", "|a|b|\n|-|-|\n".to_owned() + &rep("|x|y|\n")),
        ("entities", rep("&amp;")),
        ("html <div>", rep("<div>")),
        ("html <b>", rep("<b>")),
        ("html <p><b><i>", rep("<p><b><i>")),
        ("html comments", rep("<!--")),
        ("pull-quotes", rep("> [!PULLQUOTE]\n> x\n")),
        ("figures", rep("> [!FIGURE]\n> ![a](/m/1)\n> caption\n")),
        ("lazy quotes", rep("> a\nb\n")),
        ("one long word", "a".repeat(n)),
        ("plain paragraphs", rep("Words of an ordinary sentence in a paragraph.\n\n")),
    ]
}
