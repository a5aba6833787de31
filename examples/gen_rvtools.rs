//! Writes the vSphere example: an RVTools 4.x workbook (`examples/vsphere-rvtools.xlsx`) and the
//! same export as RVTools' per-tab CSV files (`examples/vsphere-rvtools/RVTools_tab*.csv`).
//!
//! ```text
//! cargo run --example gen_rvtools            # rewrite the committed example
//! cargo run --release --example gen_rvtools -- --vms 100000 --out big.xlsx   # a benchmark workbook
//! ```
//!
//! The output is deterministic (a fixed creation date, fixed zip times), and
//! `tests/inventory_rvtools.rs` checks that the committed files are what this writes. The tests
//! also use [`workbook`] and [`csv`] to build fixtures with the real exports' quirks.
//!
//! The example vCenter: cluster `Prod` (DRS fully automated, HA on) with `esx01`–`esx03`,
//! `esx03` in maintenance; cluster `Legacy` (DRS manual) with `esx11` and `esx12`. Auditing
//! `--host esx01 --host esx11 --mode decommission` fires each baseline rule: the running VMs
//! of `esx01` do not fit on `esx02` alone (capacity), `app-old` runs on `esx11` where DRS will
//! not move it (non-ha-running), and `sql-cold` and a template are off on `esx01`
//! (stranded-ha-vm).

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

/// A cell value: text, or a number as Excel stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    S(String),
    N(f64),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::S(s.to_string())
    }
}

impl From<f64> for Val {
    fn from(n: f64) -> Self {
        Val::N(n)
    }
}

impl From<u32> for Val {
    fn from(n: u32) -> Self {
        Val::N(f64::from(n))
    }
}

/// One sheet: its name, header and rows (an empty text cell is left out, as RVTools does).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Val>>,
    /// Write a formatted blank cell here, so that the sheet's dimension claims that far.
    pub blank_at: Option<(u32, u16)>,
}

impl Sheet {
    pub fn new(name: &str, header: &[&str]) -> Sheet {
        Sheet {
            name: name.to_string(),
            header: header.iter().map(|s| s.to_string()).collect(),
            ..Sheet::default()
        }
    }

    pub fn row(mut self, cells: Vec<Val>) -> Sheet {
        self.rows.push(cells);
        self
    }
}

/// The workbook of `sheets`, deterministic byte for byte.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let date = ExcelDateTime::from_ymd(2026, 11, 25)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&date));
    let blank = Format::new().set_bold();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (c, h) in sheet.header.iter().enumerate() {
            if !h.is_empty() {
                ws.write_string(0, c as u16, h)?;
            } else {
                ws.write_blank(0, c as u16, &blank)?;
            }
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                match v {
                    Val::S(s) if s.is_empty() => {}
                    Val::S(s) => {
                        ws.write_string(r, c as u16, s)?;
                    }
                    Val::N(n) => {
                        ws.write_number(r, c as u16, *n)?;
                    }
                }
            }
        }
        if let Some((r, c)) = sheet.blank_at {
            ws.write_blank(r, c, &blank)?;
        }
    }
    book.save_to_buffer()
}

/// The sheet as RVTools' "export all to csv" writes it: quoted fields, `sep` between them,
/// CRLF line ends.
pub fn csv(sheet: &Sheet, sep: char) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join(&sep.to_string()) + "\r\n";
    out += &line(sheet.header.iter().map(|h| quote(h)).collect());
    for row in &sheet.rows {
        out += &line(
            row.iter()
                .map(|v| match v {
                    Val::S(s) => quote(s),
                    Val::N(n) => quote(&n.to_string()),
                })
                .collect(),
        );
    }
    out
}

pub const VINFO: &[&str] = &[
    "VM",
    "Powerstate",
    "Template",
    "CPUs",
    "Memory",
    "Provisioned MiB",
    "DAS protection",
    "HA Restart Priority",
    "Cluster rule(s)",
    "Cluster rule name(s)",
    "Annotation",
    "Backup status",
    "Datacenter",
    "Cluster",
    "Host",
    "VM ID",
    "VM UUID",
];

/// One vInfo row in [`VINFO`]'s columns.
#[allow(clippy::too_many_arguments)]
pub fn vm(
    name: &str,
    power: &str,
    template: bool,
    cpus: u32,
    memory: u32,
    das: &str,
    rules: (&str, &str),
    cluster: &str,
    host: &str,
    n: u32,
) -> Vec<Val> {
    vec![
        name.into(),
        power.into(),
        if template { "True" } else { "False" }.into(),
        cpus.into(),
        memory.into(),
        (memory * 2).into(),
        das.into(),
        "medium".into(),
        rules.0.into(),
        rules.1.into(),
        "".into(),
        "OK".into(),
        "DC1".into(),
        cluster.into(),
        host.into(),
        format!("vm-{n}").as_str().into(),
        format!("5001c0de-0000-4000-8000-{n:012}").as_str().into(),
    ]
}

pub const VHOST: &[&str] = &[
    "Host",
    "Datacenter",
    "Cluster",
    "Config status",
    "in Maintenance Mode",
    "CPU Model",
    "# CPU",
    "# Cores",
    "# Memory",
    "Backup status",
    "Current EVC",
    "ESX Version",
];

pub fn host(name: &str, cluster: &str, maintenance: bool, memory: u32) -> Vec<Val> {
    vec![
        name.into(),
        "DC1".into(),
        cluster.into(),
        "green".into(),
        if maintenance { "True" } else { "False" }.into(),
        "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz".into(),
        2u32.into(),
        64u32.into(),
        memory.into(),
        "".into(),
        // The `Legacy` cluster has an EVC mode: its VMs may move between CPU models.
        if cluster == "Legacy" {
            "intel-cascadelake"
        } else {
            ""
        }
        .into(),
        "VMware ESXi 8.0.3 build-24022510".into(),
    ]
}

pub const VCLUSTER: &[&str] = &[
    "Name",
    "Config status",
    "OverallStatus",
    "NumHosts",
    "HA enabled",
    "Failover Level",
    "AdmissionControlEnabled",
    "DRS enabled",
    "DRS default VM behavior",
    "DRS vmotion rate",
];

pub fn cluster(name: &str, ha: bool, drs: bool, behavior: Val, hosts: u32) -> Vec<Val> {
    let b = |v: bool| if v { "True" } else { "False" };
    vec![
        name.into(),
        "green".into(),
        "green".into(),
        hosts.into(),
        b(ha).into(),
        1u32.into(),
        "True".into(),
        b(drs).into(),
        behavior,
        3u32.into(),
    ]
}

/// The example vCenter's vInfo, vHost and vCluster (see the module's documentation).
pub fn example() -> Vec<Sheet> {
    let no = ("", "");
    let aa = ("Anti Affinity", "Separate SQL nodes");
    let info = Sheet::new("vInfo", VINFO)
        .row(vm(
            "sql-a",
            "poweredOn",
            false,
            8,
            98304,
            "True",
            aa,
            "Prod",
            "esx01",
            101,
        ))
        .row(vm(
            "app-01",
            "poweredOn",
            false,
            4,
            65536,
            "True",
            no,
            "Prod",
            "esx01",
            102,
        ))
        .row(vm(
            "web-01",
            "poweredOn",
            false,
            2,
            32768,
            "True",
            no,
            "Prod",
            "esx01",
            103,
        ))
        .row(vm(
            "sql-cold",
            "poweredOff",
            false,
            8,
            32768,
            "",
            no,
            "Prod",
            "esx01",
            104,
        ))
        .row(vm(
            "tpl-win2022",
            "poweredOff",
            true,
            2,
            4096,
            "",
            no,
            "Prod",
            "esx01",
            105,
        ))
        .row(vm(
            "sql-b",
            "poweredOn",
            false,
            8,
            98304,
            "True",
            aa,
            "Prod",
            "esx02",
            106,
        ))
        .row(vm(
            "web-02",
            "poweredOn",
            false,
            2,
            32768,
            "True",
            no,
            "Prod",
            "esx02",
            107,
        ))
        .row(vm(
            "app-old",
            "poweredOn",
            false,
            4,
            16384,
            "True",
            no,
            "Legacy",
            "esx11",
            111,
        ))
        .row(vm(
            "batch-01",
            "poweredOff",
            false,
            4,
            8192,
            "",
            no,
            "Legacy",
            "esx11",
            112,
        ))
        .row(vm(
            "app-new",
            "poweredOn",
            false,
            4,
            16384,
            "True",
            no,
            "Legacy",
            "esx12",
            113,
        ));
    let hosts = Sheet::new("vHost", VHOST)
        .row(host("esx01", "Prod", false, 262_144))
        .row(host("esx02", "Prod", false, 262_144))
        .row(host("esx03", "Prod", true, 262_144))
        .row(host("esx11", "Legacy", false, 131_072))
        .row(host("esx12", "Legacy", false, 131_072));
    let clusters = Sheet::new("vCluster", VCLUSTER)
        .row(cluster("Prod", true, true, "fullyAutomated".into(), 3))
        .row(cluster("Legacy", true, true, "manual".into(), 2));
    vec![info, hosts, clusters]
}

pub const VUSB: &[&str] = &[
    "VM",
    "Powerstate",
    "Device Node",
    "Device Type",
    "Connected",
    "Family",
    "Speed",
    "Host",
    "VM UUID",
];

pub const VNETWORK: &[&str] = &[
    "VM",
    "Powerstate",
    "NIC label",
    "Adapter",
    "Network",
    "Connected",
    "Mac Address",
    "Host",
    "VM UUID",
];

pub const VDISK: &[&str] = &[
    "VM",
    "Powerstate",
    "Disk",
    "Capacity MiB",
    "Path",
    "Host",
    "VM UUID",
];

pub const VDATASTORE: &[&str] = &["Name", "Type", "Capacity MiB", "# Hosts", "Hosts"];

pub const VCD: &[&str] = &[
    "VM",
    "Powerstate",
    "Device Node",
    "Connected",
    "Starts Connected",
    "Device Type",
    "Host",
    "VM UUID",
];

/// The migration facts of the example's VMs: vCD, vUSB, vNetwork, vDisk and vDatastore.
/// `sql-cold` lives on `esx01-local`, a datastore only `esx01` mounts; `sql-a` has an ISO of
/// the shared datastore connected and `web-01` one of `esx01-local`, which only `esx01`
/// reaches; `app-old` has a USB device connected. vHost gives each host's CPU model and the
/// `Legacy` cluster's EVC mode, vInfo the DRS anti-affinity rule of `sql-a` and `sql-b`.
pub fn facts() -> Vec<Sheet> {
    let uuid = |n: u32| format!("5001c0de-0000-4000-8000-{n:012}");
    let vms: [(&str, &str, &str, u32, &str); 9] = [
        ("sql-a", "poweredOn", "esx01", 101, "ds-shared01"),
        ("app-01", "poweredOn", "esx01", 102, "ds-shared01"),
        ("web-01", "poweredOn", "esx01", 103, "ds-shared01"),
        ("sql-cold", "poweredOff", "esx01", 104, "esx01-local"),
        ("sql-b", "poweredOn", "esx02", 106, "ds-shared01"),
        ("web-02", "poweredOn", "esx02", 107, "ds-shared01"),
        ("app-old", "poweredOn", "esx11", 111, "ds-legacy"),
        ("batch-01", "poweredOff", "esx11", 112, "ds-legacy"),
        ("app-new", "poweredOn", "esx12", 113, "ds-legacy"),
    ];
    let usb = Sheet::new("vUSB", VUSB).row(vec![
        "app-old".into(),
        "poweredOn".into(),
        "USB 1".into(),
        "Rainbow USB license dongle".into(),
        "True".into(),
        "usb2".into(),
        "high".into(),
        "esx11".into(),
        uuid(111).as_str().into(),
    ]);
    let mut network = Sheet::new("vNetwork", VNETWORK);
    let mut disk = Sheet::new("vDisk", VDISK);
    for (name, power, host, n, ds) in vms {
        let net = if host.starts_with("esx1") {
            "Legacy-VLAN20"
        } else {
            "VM Network"
        };
        network = network.row(vec![
            name.into(),
            power.into(),
            "Network adapter 1".into(),
            "Vmxnet3".into(),
            net.into(),
            "True".into(),
            format!("00:50:56:00:00:{:02x}", n % 256).as_str().into(),
            host.into(),
            uuid(n).as_str().into(),
        ]);
        disk = disk.row(vec![
            name.into(),
            power.into(),
            "Hard disk 1".into(),
            40960u32.into(),
            format!("[{ds}] {name}/{name}.vmdk").as_str().into(),
            host.into(),
            uuid(n).as_str().into(),
        ]);
    }
    let datastore = Sheet::new("vDatastore", VDATASTORE)
        .row(vec![
            "ds-shared01".into(),
            "VMFS".into(),
            4_194_048u32.into(),
            3u32.into(),
            "esx01, esx02, esx03".into(),
        ])
        .row(vec![
            "esx01-local".into(),
            "VMFS".into(),
            921_600u32.into(),
            1u32.into(),
            "esx01".into(),
        ])
        .row(vec![
            "ds-legacy".into(),
            "NFS".into(),
            2_097_152u32.into(),
            2u32.into(),
            "esx11, esx12".into(),
        ]);
    let cd = |name: &str, host: &str, n: u32, connected: bool, kind: &str| -> Vec<Val> {
        let on = if connected { "True" } else { "False" };
        vec![
            name.into(),
            "poweredOn".into(),
            "CD/DVD drive 1".into(),
            on.into(),
            on.into(),
            kind.into(),
            host.into(),
            uuid(n).as_str().into(),
        ]
    };
    let cds = Sheet::new("vCD", VCD)
        .row(cd(
            "sql-a",
            "esx01",
            101,
            true,
            "ISO [ds-shared01] iso/SQLServer2022.iso",
        ))
        .row(cd("app-01", "esx01", 102, false, "Remote ATAPI"))
        .row(cd(
            "web-01",
            "esx01",
            103,
            true,
            "ISO [esx01-local] iso/tools.iso",
        ));
    vec![cds, usb, network, disk, datastore]
}

/// The example's files, relative to the repository: the workbook and the per-tab CSVs.
pub fn example_files() -> Result<Vec<(String, Vec<u8>)>, XlsxError> {
    let mut sheets = example();
    sheets.extend(facts());
    let mut out = vec![(
        "examples/vsphere-rvtools.xlsx".to_string(),
        workbook(&sheets)?,
    )];
    for s in &sheets {
        out.push((
            format!("examples/vsphere-rvtools/RVTools_tab{}.csv", s.name),
            csv(s, ',').into_bytes(),
        ));
    }
    Ok(out)
}

/// A workbook of `vms` VMs for the benchmarks: 40 VMs a host (`esx0001` …, 1 TiB each), in
/// clusters of 64 hosts (`c001` …, DRS fully automated); every tenth VM powered off.
pub fn scaled(vms: u32) -> Vec<Sheet> {
    let hosts = (vms / 40).max(1);
    let host_name = |h: u32| format!("esx{:04}", h + 1);
    let cluster_name = |h: u32| format!("c{:03}", h / 64 + 1);
    let mut info = Sheet::new("vInfo", VINFO);
    for i in 0..vms {
        let h = i % hosts;
        let power = if i % 10 == 9 {
            "poweredOff"
        } else {
            "poweredOn"
        };
        info.rows.push(vm(
            &format!("vm{:06}", i + 1),
            power,
            false,
            2 + i % 4,
            4096 * (1 + i % 4),
            "True",
            ("", ""),
            &cluster_name(h),
            &host_name(h),
            i + 1,
        ));
    }
    let mut host_sheet = Sheet::new("vHost", VHOST);
    for h in 0..hosts {
        host_sheet
            .rows
            .push(host(&host_name(h), &cluster_name(h), false, 1_048_576));
    }
    let mut clusters = Sheet::new("vCluster", VCLUSTER);
    for c in 0..hosts.div_ceil(64) {
        let n = (hosts - c * 64).min(64);
        clusters.rows.push(cluster(
            &format!("c{:03}", c + 1),
            true,
            true,
            "fullyAutomated".into(),
            n,
        ));
    }
    vec![info, host_sheet, clusters]
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        // --vms N --out FILE: a benchmark workbook instead of the example.
        let value = |flag: &str| {
            let at = args.iter().position(|a| a == flag);
            at.and_then(|i| args.get(i + 1)).ok_or_else(|| {
                format!("usage: gen_rvtools [--vms N --out FILE.xlsx] (missing {flag})")
            })
        };
        let vms: u32 = value("--vms")?.parse()?;
        let out = value("--out")?;
        std::fs::write(out, workbook(&scaled(vms))?)?;
        eprintln!("wrote {out} ({vms} VMs)");
        return Ok(());
    }
    let root = env!("CARGO_MANIFEST_DIR");
    for (path, bytes) in example_files()? {
        let path = std::path::Path::new(root).join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
