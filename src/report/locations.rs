//! Where each finding's subject is recorded in the inventory files, for the formats that point
//! into files (SARIF's `physicalLocation`). Computed by the CLI from the files it read (see
//! `inventory::records_at`) and handed to the report, so reporters still do no I/O.

/// Where a record sits in one inventory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAt {
    /// The file as given on the command line.
    pub path: String,
    /// 1-based line of the record's name or id value (a CSV row's line; 1 for a workbook).
    pub line: usize,
    /// 1-based column, in UTF-16 code units (SARIF's default column kind).
    pub column: usize,
    /// In a workbook: the sheet and its 1-based row.
    pub sheet: Option<(String, usize)>,
}

/// The report's findings' records, in the order of `Report::findings`, and the directory
/// relative paths are taken from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    pub records: Vec<Option<RecordAt>>,
    /// The current directory, to turn an absolute path under it into a relative URI.
    pub cwd: Option<String>,
}
