//! RVTools tabs as tables of text cells, from an `.xlsx` workbook (calamine, streamed cell by
//! cell so that a sheet whose dimension claims a million rows costs only the rows it holds) or
//! from one "export all to csv" file. Columns are found by name, never by position.

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::inventory::csv_spans::{field_spans, record_start};
use calamine::{DataRef, Reader, Xlsx};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::ops::Range;

/// The RVTools tabs preflight reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Info,
    Host,
    Cluster,
    Cd,
    Usb,
    Network,
    Disk,
    Datastore,
    Snapshot,
    Port,
    Switch,
    DvSwitch,
    DvPort,
}

impl Tab {
    pub const ALL: [Tab; 13] = [
        Tab::Info,
        Tab::Host,
        Tab::Cluster,
        Tab::Cd,
        Tab::Usb,
        Tab::Network,
        Tab::Disk,
        Tab::Datastore,
        Tab::Snapshot,
        Tab::Port,
        Tab::Switch,
        Tab::DvSwitch,
        Tab::DvPort,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Info => "vInfo",
            Tab::Host => "vHost",
            Tab::Cluster => "vCluster",
            Tab::Cd => "vCD",
            Tab::Usb => "vUSB",
            Tab::Network => "vNetwork",
            Tab::Disk => "vDisk",
            Tab::Datastore => "vDatastore",
            Tab::Snapshot => "vSnapshot",
            Tab::Port => "vPort",
            Tab::Switch => "vSwitch",
            Tab::DvSwitch => "dvSwitch",
            Tab::DvPort => "dvPort",
        }
    }

    /// The tab whose header this is: vInfo has `VM`, `Powerstate` and `Host` but no `Device Node`
    /// (vCD has all three); vHost has `Host` and `# Memory` or `in Maintenance Mode`;
    /// vCluster has `Name` and `DRS enabled` or `HA enabled`.
    pub fn of_header(names: &[String]) -> Option<Tab> {
        let keys: Vec<String> = names
            .iter()
            .flat_map(|n| Tab::ALL.map(|t| key_of(n, Some(t.name()))))
            .collect();
        let has = |k: &str| keys.iter().any(|n| n == k);
        if has("vm") || has("vmname") {
            // vUSB has a Device Node and Type too, and USB's own Family and Speed.
            if (has("devicenode") || has("devicetype")) && (has("family") || has("speed")) {
                return Some(Tab::Usb);
            }
            if has("devicenode") || has("devicetype") {
                return Some(Tab::Cd);
            }
            if has("niclabel") || has("macaddress") {
                return Some(Tab::Network);
            }
            if has("diskpath") || (has("disk") && (has("capacitymib") || has("capacitymb"))) {
                return Some(Tab::Disk);
            }
            // vSnapshot has a Powerstate and a Host too, and the snapshot's own columns.
            if has("datetime") || has("quiesced") || has("sizemibvmsn") || has("sizembvmsn") {
                return Some(Tab::Snapshot);
            }
            // PowerCLI exports have `VMName` and `PowerState` too, but `VMHost` or `ESXiHost`.
            if has("powerstate") && has("host") {
                return Some(Tab::Info);
            }
        }
        if has("host") && has("portgroup") && has("switch") {
            return Some(Tab::Port);
        }
        if has("host") && has("switch") && (has("#ports") || has("freeports")) {
            return Some(Tab::Switch);
        }
        if has("switch") && has("hostmembers") {
            return Some(Tab::DvSwitch);
        }
        if has("port") && has("switch") && !has("host") {
            return Some(Tab::DvPort);
        }
        if (has("host") || has("name") || has("hostname"))
            && (has("#memory") || has("inmaintenancemode") || has("#cpu") || has("cpumodel"))
        {
            return Some(Tab::Host);
        }
        if has("name") && (has("drsenabled") || has("haenabled")) {
            return Some(Tab::Cluster);
        }
        if has("name") && has("#hosts") && has("hosts") {
            return Some(Tab::Datastore);
        }
        None
    }
}

/// A column name reduced to compare: lower case, letters, digits and `#` only, without the
/// tab's prefix that RVTools' "DB column names" option adds (`vInfoPowerstate`).
pub fn key_of(name: &str, tab: Option<&str>) -> String {
    let mut k: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '#')
        .flat_map(char::to_lowercase)
        .collect();
    if let Some(tab) = tab {
        let prefix = tab.to_ascii_lowercase();
        if k.len() > prefix.len() && k.starts_with(&prefix) {
            k.drain(..prefix.len());
        }
    }
    k
}

/// Where a cell is: a sheet position (0-based row and column) or a span of the CSV text.
#[derive(Debug, Clone)]
pub enum Loc {
    Sheet(u32, u32),
    Text(Range<usize>),
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct TRow {
    pub loc: Loc,
    cells: Vec<Option<Cell>>,
}

/// Where the table came from, to locate diagnostics.
#[derive(Debug, Clone)]
pub enum Source {
    Workbook { name: String, sheet: String },
    Csv(SourceFile),
}

#[derive(Debug)]
pub struct Table {
    pub tab: Tab,
    pub source: Source,
    /// The header's names as spelled, by column.
    pub spelled: Vec<String>,
    /// Column of each key (the first column of a key wins).
    index: BTreeMap<String, usize>,
    pub header_loc: Loc,
    pub rows: Vec<TRow>,
}

impl Table {
    fn new(tab: Tab, source: Source, spelled: Vec<String>, header_loc: Loc) -> Table {
        let mut index = BTreeMap::new();
        for (i, n) in spelled.iter().enumerate() {
            let k = key_of(n, Some(tab.name()));
            if !k.is_empty() {
                index.entry(k).or_insert(i);
            }
        }
        Table {
            tab,
            source,
            spelled,
            index,
            header_loc,
            rows: Vec::new(),
        }
    }

    /// The column of the first of `names` the header has.
    pub fn col(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.index.get(&key_of(n, None)).copied())
    }

    pub fn get<'r>(&self, row: &'r TRow, col: Option<usize>) -> Option<&'r Cell> {
        row.cells.get(col?)?.as_ref()
    }

    /// How to name a place of this table in a message: `vInfo!C7` or `line 7, column Host`.
    pub fn place(&self, loc: &Loc, col: Option<usize>) -> String {
        match (&self.source, loc) {
            (Source::Workbook { sheet, .. }, Loc::Sheet(r, c)) => {
                format!("{sheet}!{}{}", column_letters(*c), r + 1)
            }
            (Source::Csv(file), Loc::Text(span)) => {
                let (line, column) = file.line_col(span.start);
                match col.and_then(|c| self.spelled.get(c)) {
                    Some(name) => format!("line {line}:{column} (column {name})"),
                    None => format!("line {line}:{column}"),
                }
            }
            (Source::Workbook { sheet, .. }, Loc::Text(_)) => sheet.clone(),
            (Source::Csv(file), Loc::Sheet(..)) => file.name.clone(),
        }
    }

    pub fn file_name(&self) -> &str {
        match &self.source {
            Source::Workbook { name, .. } => name,
            Source::Csv(file) => &file.name,
        }
    }

    /// A diagnostic about the cell at `loc` (column `col` for its name).
    pub fn diag(&self, code: Code, loc: &Loc, col: Option<usize>, msg: &str) -> SourceDiag {
        let message = format!("{}: {}: {msg}", self.file_name(), self.place(loc, col));
        match (&self.source, loc) {
            (Source::Csv(file), Loc::Text(span)) => {
                SourceDiag::at(code, message, file, span.clone(), "here")
            }
            _ => SourceDiag::plain(code, message),
        }
    }
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column.
pub fn column_letters(mut c: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The zip container every `.xlsx` is.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// An OLE compound file: a legacy `.xls`, or an `.xlsx` Excel encrypted with a password.
pub fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

const XLSX_HELP: &str = "export again from RVTools (File > Export all to Excel), or open it in Excel and save it as .xlsx without a password";

/// The RVTools tabs of a workbook, by tab; tabs it lacks are absent.
pub fn read_workbook(name: &str, bytes: &[u8]) -> Result<BTreeMap<Tab, Table>, Diagnostics> {
    if is_ole(bytes) {
        return Err(SourceDiag::plain(
            Code::InventoryFormat,
            format!(
                "{name}: is an encrypted (password-protected) workbook or a legacy .xls, not an .xlsx preflight can open"
            ),
        )
        .with_help(XLSX_HELP)
        .into());
    }
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        SourceDiag::plain(
            Code::InventorySyntax,
            format!("{name}: not a readable .xlsx workbook: {e}"),
        )
        .with_help(XLSX_HELP)
    })?;
    let sheets = book.sheet_names();
    let mut out = BTreeMap::new();
    for tab in Tab::ALL {
        let Some(sheet) = sheets
            .iter()
            .find(|s| s.trim().eq_ignore_ascii_case(tab.name()))
            .cloned()
        else {
            continue;
        };
        let table = read_sheet(&mut book, name, &sheet, tab).map_err(|e| {
            SourceDiag::plain(
                Code::InventorySyntax,
                format!("{name}: sheet {sheet} cannot be read: {e}"),
            )
            .with_help(XLSX_HELP)
        })?;
        if let Some(t) = table {
            out.insert(tab, t);
        }
    }
    if !out.contains_key(&Tab::Info) {
        let found = if sheets.is_empty() {
            "no sheets".to_string()
        } else {
            format!("sheets {}", sheets.join(", "))
        };
        return Err(SourceDiag::plain(
            Code::InventoryFormat,
            format!("{name}: a workbook without a vInfo sheet is not an RVTools export ({found})"),
        )
        .with_help("export all tabs from RVTools (File > Export all to Excel); preflight needs vInfo, and reads vHost and vCluster when present")
        .into());
    }
    Ok(out)
}

/// One sheet as a table: the first row holding anything is the header; empty cells and rows
/// are skipped, however far the sheet's dimension claims to reach.
fn read_sheet(
    book: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    sheet: &str,
    tab: Tab,
) -> Result<Option<Table>, calamine::XlsxError> {
    let mut reader = book.worksheet_cells_reader(sheet)?;
    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell()? {
        let Some(text) = cell_text(cell.get_value()) else {
            continue;
        };
        let (r, c) = cell.get_position();
        rows.entry(r).or_default().push((c, text));
    }
    let mut rows = rows.into_iter();
    let Some((hr, header)) = rows.next() else {
        return Ok(None);
    };
    let width = header
        .iter()
        .map(|(c, _)| *c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut spelled = vec![String::new(); width];
    for (c, t) in header {
        spelled[c as usize] = t.trim().to_string();
    }
    let source = Source::Workbook {
        name: name.to_string(),
        sheet: sheet.to_string(),
    };
    let mut table = Table::new(tab, source, spelled, Loc::Sheet(hr, 0));
    for (r, cells) in rows {
        let mut row = TRow {
            loc: Loc::Sheet(r, 0),
            cells: vec![None; width],
        };
        for (c, text) in cells {
            if let Some(slot) = row.cells.get_mut(c as usize) {
                *slot = Some(Cell {
                    text,
                    loc: Loc::Sheet(r, c),
                });
            }
        }
        table.rows.push(row);
    }
    Ok(Some(table))
}

/// A cell's text as RVTools meant it; `None` for an empty cell.
fn cell_text(v: &DataRef<'_>) -> Option<String> {
    let t = match v {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(true) => "True".to_string(),
        DataRef::Bool(false) => "False".to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    };
    (!t.trim().is_empty()).then_some(t)
}

/// The separator of a CSV header line: the most frequent of `,`, `;` and tab outside quotes.
fn delimiter(header: &str) -> u8 {
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    seps[best]
}

/// The header names of a CSV text, if its first line parses.
pub fn csv_header(text: &str) -> Option<Vec<String>> {
    let first = text.lines().next()?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(first))
        .has_headers(false)
        .flexible(true)
        .from_reader(first.as_bytes());
    let rec = reader.records().next()?.ok()?;
    Some(rec.iter().map(|s| s.trim().to_string()).collect())
}

/// One per-tab CSV file as a table; a malformed line is an error at its line and column.
pub fn read_csv(file: &SourceFile) -> Result<Table, Diagnostics> {
    let text = file.text.as_str();
    let first = text.lines().next().unwrap_or("");
    let delimiter = delimiter(first);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(file, &e).into()),
        None => {
            return Err(SourceDiag::plain(
                Code::InventoryFormat,
                format!("{}: is empty", file.name),
            )
            .into());
        }
    };
    let spelled: Vec<String> = header.iter().map(|s| s.trim().to_string()).collect();
    let Some(tab) = Tab::of_header(&spelled) else {
        return Err(SourceDiag::at(
            Code::InventoryFormat,
            format!(
                "{}: line 1: a header row preflight does not recognise as an RVTools tab",
                file.name
            ),
            file,
            0..first.len().max(1),
            "this header",
        )
        .with_help("preflight reads RVTools' vInfo (VM, Powerstate, Host…), vHost (Host, # Memory…) and vCluster (Name, DRS enabled…) tabs; export them with RVTools' Export all to csv")
        .into());
    };
    let mut table = Table::new(tab, Source::Csv(file.clone()), spelled, Loc::Text(0..1));
    let mut diags = Diagnostics::default();
    for result in records {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                diags.push(csv_error(file, &e));
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(pos) = record.position() else {
            continue;
        };
        let start = record_start(text, pos.byte());
        let spans = field_spans(text, start, delimiter);
        let mut cells = vec![None; table.spelled.len()];
        for (i, value) in record.iter().enumerate() {
            let span = spans.get(i).cloned().unwrap_or(start..start + 1);
            if let Some(slot) = cells.get_mut(i)
                && !value.trim().is_empty()
            {
                *slot = Some(Cell {
                    text: value.to_string(),
                    loc: Loc::Text(span),
                });
            }
        }
        table.rows.push(TRow {
            loc: Loc::Text(start..start + 1),
            cells,
        });
    }
    diags.into_result(table)
}

fn csv_error(file: &SourceFile, e: &csv::Error) -> SourceDiag {
    let offset = e
        .position()
        .map_or(0, |p| record_start(&file.text, p.byte()));
    let (line, column) = file.line_col(offset);
    SourceDiag::at(
        Code::InventorySyntax,
        format!("{}: line {line}:{column}: not valid CSV: {e}", file.name),
        file,
        offset..offset + 1,
        "in this line",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_drop_case_spaces_and_the_tab_prefix() {
        assert_eq!(key_of("in Maintenance Mode", None), "inmaintenancemode");
        assert_eq!(key_of("vInfoPowerstate", Some("vInfo")), "powerstate");
        assert_eq!(key_of("# Memory", Some("vHost")), "#memory");
        assert_eq!(key_of("vInfo", Some("vInfo")), "vinfo");
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(89), "CL");
    }

    #[test]
    fn tabs_are_told_by_their_headers() {
        let h = |s: &str| s.split('|').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(Tab::of_header(&h("VM|Powerstate|Host")), Some(Tab::Info));
        assert_eq!(
            Tab::of_header(&h("vInfoVMName|vInfoPowerstate|vInfoHost")),
            Some(Tab::Info)
        );
        assert_eq!(
            Tab::of_header(&h("VM|Powerstate|Device Node|Connected")),
            Some(Tab::Cd)
        );
        assert_eq!(Tab::of_header(&h("Host|Cluster|# Memory")), Some(Tab::Host));
        assert_eq!(
            Tab::of_header(&h("Name|HA enabled|DRS enabled")),
            Some(Tab::Cluster)
        );
        assert_eq!(Tab::of_header(&h("Name|State|ComputerName")), None);
        // PowerCLI's Get-View export is not an RVTools tab.
        assert_eq!(
            Tab::of_header(&h("VMName|PowerState|ESXiHost|Cluster")),
            None
        );
    }

    #[test]
    fn csv_separator_is_found_outside_quotes() {
        assert_eq!(delimiter("\"a;b\",\"c\""), b',');
        assert_eq!(delimiter("VM;Powerstate;Host"), b';');
        assert_eq!(delimiter("VM\tPowerstate\tHost"), b'\t');
    }
}
