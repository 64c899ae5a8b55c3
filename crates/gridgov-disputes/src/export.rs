//! The ledger ([`Ledger`]) as the files a township office keeps: CSV for other programs and
//! XLSX for people, both with Chinese headers ([`HEADERS`]) and Chinese vocabulary terms.
//!
//! The CSV is UTF-8 with a byte-order mark, so that Excel reads the Chinese right: one header
//! row, then one row per case, dates as `2026-11-05`, yes and no as `是` and `否`. The XLSX has
//! one sheet, `台账`: the ledger's title over all columns, the bold header row (frozen, with
//! a filter, repeated on every printed page), one row per case with dates as date cells,
//! then the summary (汇总) and the day it was drawn up.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use crate::ledger::{Ledger, LedgerRow, LedgerSummary};

/// The ledger's columns, in the order written.
pub const HEADERS: [&str; 21] = [
    "序号",
    "案件编号",
    "乡镇（街道）",
    "村（社区）",
    "网格",
    "纠纷类别",
    "调解渠道",
    "当事人",
    "纠纷简要情况",
    "登记日期",
    "办理层级",
    "状态",
    "化解期限",
    "是否超期",
    "超期天数",
    "升级次数",
    "是否积案",
    "包案领导",
    "一案一策",
    "办结日期",
    "列入原因",
];

/// The columns' widths in the XLSX, in characters.
const WIDTHS: [f64; 21] = [
    6.0, 10.0, 14.0, 14.0, 19.0, 13.0, 10.0, 20.0, 36.0, 12.0, 9.0, 10.0, 12.0, 9.0, 9.0, 9.0, 9.0,
    12.0, 30.0, 12.0, 18.0,
];

/// The sheet's name in the XLSX.
pub const SHEET: &str = "台账";

/// The number format of date cells.
const DATE_FORMAT: &str = "yyyy-mm-dd";

/// A ledger that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The CSV writer failed.
    #[error("could not write the ledger as CSV")]
    Csv(#[from] csv::Error),
    /// The XLSX writer failed.
    #[error("could not write the ledger as XLSX")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// One cell of a ledger row.
enum Cell {
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Empty,
}

impl Cell {
    fn text(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    fn date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    fn yes_no(b: bool) -> Cell {
        Cell::Text(if b { "是" } else { "否" }.to_owned())
    }

    /// The cell as CSV text.
    fn to_csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A row's cells, in the order of [`HEADERS`]. Divisions without a name are shown by code.
fn cells(row: &LedgerRow) -> [Cell; 21] {
    let township = row
        .township_name
        .clone()
        .or_else(|| row.township.map(|t| t.to_string()));
    let village = row
        .village_name
        .clone()
        .unwrap_or_else(|| row.village.to_string());
    [
        Cell::Int(i64::try_from(row.seq).unwrap_or(i64::MAX)),
        row.id.map_or(Cell::Empty, |id| Cell::Int(id.0)),
        Cell::text(township),
        Cell::Text(village),
        Cell::text(row.grid.as_ref().map(ToString::to_string)),
        Cell::Text(row.category.zh().to_owned()),
        Cell::Text(row.channel.zh().to_owned()),
        Cell::Text(row.parties.join("；")),
        Cell::text(row.description.clone()),
        Cell::Date(row.opened_on),
        Cell::Text(row.level.zh().to_owned()),
        Cell::Text(row.status.zh().to_owned()),
        Cell::date(row.deadline),
        Cell::yes_no(row.overdue),
        row.days_overdue.map_or(Cell::Empty, Cell::Int),
        Cell::Int(i64::try_from(row.escalations).unwrap_or(i64::MAX)),
        Cell::yes_no(row.backlog),
        Cell::text(row.leader.clone()),
        Cell::text(row.plan.clone()),
        Cell::date(row.closed_on),
        Cell::Text(row.reasons_zh()),
    ]
}

/// The summary's lines: a Chinese label and a count.
fn summary_lines(s: &LedgerSummary) -> [(&'static str, usize); 9] {
    [
        ("列入台账案件", s.rows),
        ("在办案件", s.open),
        ("其中：超期案件", s.overdue),
        ("本月升级案件", s.escalated),
        ("本月办结案件", s.closed),
        ("其中：已化解", s.settled),
        ("其中：未化解", s.not_resolved),
        ("积案", s.backlog),
        (
            "积案中未落实包案领导或一案一策",
            s.backlog_without_leader_or_plan,
        ),
    ]
}

/// The ledger as CSV: UTF-8 with a byte-order mark, the Chinese header row, one row per case.
/// The title and the summary are not written (see [`ledger_xlsx`]).
///
/// # Errors
/// [`ExportError::Csv`] when the CSV writer fails (it writes to memory, so it should not).
pub fn ledger_csv(ledger: &Ledger) -> Result<Vec<u8>, ExportError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS)?;
        for row in &ledger.rows {
            w.write_record(cells(row).iter().map(Cell::to_csv))?;
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// The ledger as an XLSX workbook with one sheet, [`SHEET`] (see the module's docs).
///
/// # Errors
/// [`ExportError::Xlsx`] when the XLSX writer fails.
pub fn ledger_xlsx(ledger: &Ledger) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    write_sheet(sheet, ledger)?;
    Ok(book.save_to_buffer()?)
}

/// Rows of the sheet: the title, the header, then the cases.
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 1;
const FIRST_ROW: u32 = 2;

fn write_sheet(sheet: &mut Worksheet, ledger: &Ledger) -> Result<(), rust_xlsxwriter::XlsxError> {
    let last_col = (HEADERS.len() - 1) as u16;
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let header = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(0x00D9_E1F2);
    let cell = Format::new()
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let date = cell.clone().set_num_format(DATE_FORMAT);
    let bold = Format::new().set_bold();
    let plain_date = Format::new()
        .set_num_format(DATE_FORMAT)
        .set_align(FormatAlign::Left);

    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, &ledger.title(), &title)?;
    sheet.set_row_height(TITLE_ROW, 32)?;
    for (col, (name, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(HEADER_ROW, col, *name, &header)?;
        sheet.set_column_width(col, width)?;
    }
    sheet.set_row_height(HEADER_ROW, 30)?;

    let mut r = FIRST_ROW;
    for row in &ledger.rows {
        for (col, value) in cells(row).into_iter().enumerate() {
            let col = col as u16;
            match value {
                Cell::Text(s) => sheet.write_string_with_format(r, col, s, &cell)?,
                Cell::Int(n) => sheet.write_number_with_format(r, col, n as f64, &cell)?,
                Cell::Date(d) => match excel_date(d) {
                    Some(x) => sheet.write_datetime_with_format(r, col, &x, &date)?,
                    None => sheet.write_string_with_format(r, col, d.to_string(), &cell)?,
                },
                Cell::Empty => sheet.write_blank(r, col, &cell)?,
            };
        }
        r += 1;
    }
    let last_row = r.saturating_sub(1).max(HEADER_ROW);
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    sheet.set_freeze_panes(FIRST_ROW, 0)?;

    // The summary, after an empty row: labels over the first three columns, counts in the
    // fourth.
    r += 1;
    sheet.write_string_with_format(r, 0, "汇总", &bold)?;
    for (label, n) in summary_lines(&ledger.summary) {
        r += 1;
        sheet.merge_range(r, 0, r, 2, label, &Format::new())?;
        sheet.write_number(r, 3, n as f64)?;
    }
    r += 1;
    sheet.merge_range(r, 0, r, 2, "制表日期", &Format::new())?;
    match excel_date(ledger.as_of) {
        Some(x) => sheet.write_datetime_with_format(r, 3, &x, &plain_date)?,
        None => sheet.write_string(r, 3, ledger.as_of.to_string())?,
    };

    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(TITLE_ROW, HEADER_ROW)?;
    Ok(())
}

/// The day as an Excel date, for the years Excel holds (1900 to 9999).
fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    use super::*;
    use crate::ledger::tests::{day, township_ledger};

    /// The Excel serial number of a day (days since 1899-12-30).
    fn serial(y: i32, m: u32, d: u32) -> i64 {
        (day(y, m, d) - day(1899, 12, 30)).num_days()
    }

    #[test]
    fn csv_reads_back_with_chinese_headers() {
        let l = township_ledger(day(2026, 12, 5));
        let bytes = ledger_csv(&l).unwrap();
        assert!(
            bytes.starts_with("\u{feff}".as_bytes()),
            "a UTF-8 byte-order mark"
        );
        let mut r = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(r.headers().unwrap(), HEADERS.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 8);
        // Row 2 is case B (2): 甲村, township level, overdue 20 days, backlog, no plan.
        let b = &rows[1];
        let get = |rec: &csv::StringRecord, h: &str| {
            rec[HEADERS.iter().position(|x| *x == h).unwrap()].to_owned()
        };
        assert_eq!(get(b, "序号"), "2");
        assert_eq!(get(b, "案件编号"), "2");
        assert_eq!(get(b, "乡镇（街道）"), "某某镇");
        assert_eq!(get(b, "村（社区）"), "甲村");
        assert_eq!(get(b, "网格"), "520526101201-G01");
        assert_eq!(get(b, "纠纷类别"), "土地承包");
        assert_eq!(get(b, "调解渠道"), "人民调解");
        assert_eq!(get(b, "当事人"), "甲2；乙2");
        assert_eq!(get(b, "登记日期"), "2026-08-01");
        assert_eq!(get(b, "办理层级"), "镇级");
        assert_eq!(get(b, "状态"), "调解中");
        assert_eq!(get(b, "化解期限"), "2026-11-10");
        assert_eq!(get(b, "是否超期"), "是");
        assert_eq!(get(b, "超期天数"), "20");
        assert_eq!(get(b, "是否积案"), "是");
        assert_eq!(get(b, "包案领导"), "李镇长");
        assert_eq!(get(b, "一案一策"), "");
        assert_eq!(get(b, "办结日期"), "");
        assert_eq!(get(b, "列入原因"), "在办、超期");
        // Row 1 is case E (5), not resolved at the county on 11-25.
        assert_eq!(get(&rows[0], "状态"), "未化解");
        assert_eq!(get(&rows[0], "办结日期"), "2026-11-25");
        assert_eq!(get(&rows[0], "升级次数"), "2");
    }

    #[test]
    fn xlsx_reads_back_with_calamine() {
        let l = township_ledger(day(2026, 12, 5));
        let bytes = ledger_xlsx(&l).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), [SHEET]);
        let range = book.worksheet_range(SHEET).unwrap();
        let at = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(
            at(0, 0),
            Data::String("某某镇矛盾纠纷排查化解台账（2026年11月）".into())
        );
        for (c, h) in HEADERS.iter().enumerate() {
            assert_eq!(at(1, c as u32), Data::String((*h).into()), "header {c}");
        }
        // The first case row: E (5).
        assert_eq!(at(2, 0), Data::Float(1.0));
        assert_eq!(at(2, 1), Data::Float(5.0));
        assert_eq!(at(2, 2), Data::String("某某镇".into()));
        assert_eq!(at(2, 3), Data::String("甲村".into()));
        assert_eq!(at(2, 11), Data::String("未化解".into()));
        // Dates are date cells holding the day's serial number.
        let date = |r: u32, c: u32| match at(r, c) {
            Data::DateTime(d) => {
                assert!(d.is_datetime());
                assert!(d.as_f64().fract().abs() < 1e-9, "a whole day: {d:?}");
                d.as_f64() as i64
            }
            other => panic!("({r}, {c}) is not a date cell: {other:?}"),
        };
        assert_eq!(date(2, 9), serial(2026, 6, 1));
        assert_eq!(date(2, 19), serial(2026, 11, 25));
        assert_eq!(at(2, 12), Data::Empty);
        // Case B (2) in the second row: overdue 20 days.
        assert_eq!(at(3, 13), Data::String("是".into()));
        assert_eq!(at(3, 14), Data::Float(20.0));
        assert_eq!(date(3, 12), serial(2026, 11, 10));
        // Eight case rows (2..=9), an empty row, then the summary.
        assert_eq!(at(9, 1), Data::Float(9.0));
        assert_eq!(at(10, 0), Data::Empty);
        assert_eq!(at(11, 0), Data::String("汇总".into()));
        let summary: Vec<(Data, Data)> = (12..21).map(|r| (at(r, 0), at(r, 3))).collect();
        let want = [
            ("列入台账案件", 8.0),
            ("在办案件", 6.0),
            ("其中：超期案件", 2.0),
            ("本月升级案件", 1.0),
            ("本月办结案件", 2.0),
            ("其中：已化解", 1.0),
            ("其中：未化解", 1.0),
            ("积案", 2.0),
            ("积案中未落实包案领导或一案一策", 1.0),
        ];
        let want: Vec<(Data, Data)> = want
            .iter()
            .map(|(l, n)| (Data::String((*l).into()), Data::Float(*n)))
            .collect();
        assert_eq!(summary, want);
        assert_eq!(at(21, 0), Data::String("制表日期".into()));
        assert_eq!(date(21, 3), serial(2026, 12, 5));
    }

    #[test]
    fn xlsx_opens_in_gdal() {
        // GDAL's XLSX driver is the reference reader; read every cell as text, no header.
        let l = township_ledger(day(2026, 11, 15));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.xlsx");
        std::fs::write(&path, ledger_xlsx(&l).unwrap()).unwrap();
        let out = std::process::Command::new("ogrinfo")
            .args([
                "-ro",
                "-al",
                "-oo",
                "HEADERS=DISABLE",
                "-oo",
                "FIELD_TYPES=STRING",
            ])
            .arg(&path)
            .output()
            .expect("ogrinfo (gdal-bin) must be installed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ogrinfo failed: {stdout}{stderr}");
        assert!(stderr.trim().is_empty(), "ogrinfo complained: {stderr}");
        assert!(stdout.contains(&format!("Layer name: {SHEET}")), "{stdout}");
        // 2 title and header rows, 7 cases, 1 empty, 1 label, 9 counts, 1 date.
        assert!(stdout.contains("Feature Count: 21"), "{stdout}");
        for want in [
            "某某镇矛盾纠纷排查化解台账（2026年11月，截至11月15日）",
            "一案一策",
            "纠纷简要情况",
            "积案中未落实包案领导或一案一策",
            "李镇长",
        ] {
            assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
        }
    }
}
