//! How client commands print: aligned tables without borders for people ([`Table`]), or the
//! API's JSON, pretty-printed, for scripts ([`print_json`]).

use std::io::Write;

use comfy_table::CellAlignment;
use comfy_table::ColumnConstraint;
use comfy_table::presets::NOTHING;
use serde_json::Value;

/// A table of rows under a header: columns left-aligned, two spaces apart, no borders, never
/// wrapped (as kubectl prints them), so `awk '{print $1}'` and people both read it.
pub struct Table {
    table: comfy_table::Table,
}

impl Table {
    /// An empty table with these column headings.
    pub fn new(header: &[&str]) -> Table {
        let mut table = comfy_table::Table::new();
        table.load_style(NOTHING);
        table.set_header(header.iter().copied());
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
            column.set_cell_alignment(CellAlignment::Left);
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
        Table { table }
    }

    /// Adds a row (one cell per heading).
    pub fn row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<comfy_table::Cell>,
    {
        self.table.add_row(cells);
        self
    }

    /// The table as text, the heading and then one line per row, trailing spaces trimmed.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // The borderless preset still draws a (blank) line under the heading: left out.
        for line in self.table.lines().filter(|line| !line.trim().is_empty()) {
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// `Key:` and value lines, the values lined up (what `status` and `service show` print above
/// their tables).
pub fn fields(pairs: &[(&str, String)]) -> String {
    // The longest key, its colon and two spaces.
    let width = pairs
        .iter()
        .map(|(key, _)| key.len() + 3)
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(key, value)| format!("{:<width$}{value}\n", format!("{key}:")))
        .collect()
}

/// Writes `text` to stdout as it is. A reader that went away (`flotilla status | head -1`)
/// ends the output quietly rather than with a panic, as Unix tools do.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    out(&format!("{text}\n"));
}

/// The word the API uses for `value` (an enum such as a node's status: `up`, `down`).
pub fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(word)) => word,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_string(),
    }
}

/// A cell for an optional value: the value, or `-`.
pub fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |value| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_line_up() {
        let text = fields(&[("Leader", "n1".into()), ("Commit index", "7".into())]);
        assert_eq!(text, "Leader:        n1\nCommit index:  7\n");
    }

    #[test]
    fn columns_line_up_under_their_headings() {
        let mut table = Table::new(&["ID", "ADDRESS", "LOAD"]);
        table.row(["1", "localhost:8001", "12"]);
        table.row(["10", "h:1", "3"]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "ID  ADDRESS         LOAD",
                "1   localhost:8001  12",
                "10  h:1             3",
            ],
            "{text}"
        );
    }
}
