//! Deterministic generator of provider-scale inventories for the benchmarks (`benches/run.sh`).
//!
//! ```text
//! cargo run --release --example gen_inventory -- --hosts 250 --vms 10000 --seed 1 \
//!     [--out FILE] [--format native|scvmm-utf16] [--facts]
//! ```
//!
//! `native` writes the native format (the README's Inventory section), one host or VM per line. `scvmm-utf16`
//! writes the same VMs as Windows PowerShell 5.1 would redirect
//! `Get-SCVirtualMachine | Select-Object Name,ID,HostName,Status,IsHighlyAvailable,Memory,CPUCount
//! | ConvertTo-Json` to a file: 4-space indent, `"Key":  value`, CRLF, UTF-16 LE with a BOM.
//!
//! The same arguments give byte-identical output: every value comes from one splitmix64 stream,
//! drawn in a fixed order, and nothing is read from the clock or the environment. Output is
//! streamed, so a million VMs never sit in memory as text.
//!
//! Hosts come in clusters of up to 64 nodes (`c001-h001` in cluster `c001`), filled in order, so
//! the first cluster is a full 64-node one whenever there are 64 hosts or more. VMs are placed on
//! a random host with room left under 85% of its memory; only when the hosts are too few for the
//! VMs does a host go over, and the generator says so on stderr.
//!
//! `--facts` (native only) adds the migration facts of CONTRACT 7.1 in the proportions of a
//! real fleet: hosts offer their cluster's networks (the odd host lacks one) and name their CPU
//! model; nearly every VM has one to three disks (about 4% of VMs keep one on local storage),
//! about 4% have an ISO mounted (a quarter of those local), 1% a passed-through device, one or
//! two networks of its host, a CPU-compatibility flag and a checkpoint count; about 5% are in
//! anti-affinity groups of two or three, 2% may run on only two hosts, a third carry
//! attributes, and a few are templates. The facts come from a second random stream, so the
//! hosts and VMs, and the output without `--facts`, stay exactly as they are without it.

use clap::{Parser, ValueEnum};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Nodes per cluster, the failover-cluster maximum.
const CLUSTER_SIZE: usize = 64;
/// Share of a host's memory, in percent, that placement may fill.
const FILL_PERCENT: u64 = 85;
/// Random hosts tried before scanning them all in order.
const RANDOM_PROBES: usize = 32;
const COLLECTED_AT: &str = "2026-11-25T16:00:00Z";
const DOMAIN: &str = "example.local";

#[derive(Parser)]
#[command(about = "Write a deterministic synthetic inventory for benchmarks")]
pub(crate) struct Args {
    /// Number of hypervisor hosts.
    #[arg(long)]
    hosts: usize,
    /// Number of VMs.
    #[arg(long)]
    vms: usize,
    /// Seed of the generator; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Native)]
    format: OutFormat,
    /// Add migration facts (disks, media, devices, networks, CPU, groups, attributes); native
    /// format only.
    #[arg(long)]
    facts: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutFormat {
    Native,
    #[value(name = "scvmm-utf16")]
    ScvmmUtf16,
}

/// splitmix64: tiny, fast, and good enough to spread test data; fixed so output never changes
/// with a dependency's version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant for test data.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Picks a value from `(weight, value)` pairs.
    fn weighted<T: Copy>(&mut self, table: &[(u32, T)]) -> T {
        let total: u32 = table.iter().map(|(w, _)| w).sum();
        let mut roll = self.below(u64::from(total)) as u32;
        for &(w, v) in table {
            if roll < w {
                return v;
            }
            roll -= w;
        }
        table[table.len() - 1].1
    }
}

/// Host hardware generations: (weight, (memory GiB, logical CPUs)).
const HARDWARE: &[(u32, (u64, u32))] = &[
    (5, (256, 32)),
    (20, (384, 48)),
    (35, (512, 64)),
    (25, (768, 96)),
    (15, (1024, 128)),
];
/// Host states: nearly all up.
const HOST_STATES: &[(u32, &str)] = &[(980, "up"), (10, "maintenance"), (5, "paused"), (5, "down")];
/// VM memory in MiB, skewed toward small VMs as real fleets are.
const VM_MEMORY: &[(u32, u64)] = &[
    (10, 1024),
    (18, 2048),
    (4, 3072),
    (24, 4096),
    (6, 6144),
    (16, 8192),
    (4, 12288),
    (9, 16384),
    (2, 24576),
    (4, 32768),
    (2, 65536),
    (1, 131072),
];
/// VM power states, about 15% not running: (weight, (native state, SCVMM's
/// VMComputerSystemState number)).
const VM_STATES: &[(u32, (&str, u8))] = &[
    (85, ("running", 0)),
    (8, ("off", 1)),
    (5, ("saved", 3)),
    (2, ("paused", 6)),
];
const ROLES: &[&str] = &["app", "web", "sql", "dc", "fs", "rds", "build", "k8s"];
const ENVS: &[(u32, &str)] = &[(60, "prod"), (25, "test"), (15, "dev")];

struct Host {
    name: String,
    cluster: String,
    state: &'static str,
    memory_mb: u64,
    cpus: u32,
    used_mb: u64,
}

struct Vm {
    name: String,
    id: String,
    host: usize,
    state: (&'static str, u8),
    ha: bool,
    memory_mb: u64,
    vcpus: u32,
    env: &'static str,
    role_tag: Option<&'static str>,
}

/// Seeds the facts' own random stream (mixed with `--seed`), kept apart from the main one so
/// that `--facts` adds to the hosts and VMs without changing them.
const FACTS_STREAM: u64 = 0x6661_6374_735f_7631;
/// CPU models a cluster is bought with: (weight, model).
const CPU_MODELS: &[(u32, &str)] = &[
    (30, "Intel Xeon Gold 6338"),
    (25, "Intel Xeon Gold 6430"),
    (20, "AMD EPYC 7543"),
    (15, "AMD EPYC 9354"),
    (10, "Intel Xeon Silver 4314"),
];
/// Networks every cluster offers, then ones a cluster offers a third of the time.
const BASE_NETWORKS: &[&str] = &["Prod-vSwitch", "Mgmt", "Backup"];
const EXTRA_NETWORKS: &[&str] = &["DMZ", "Storage", "Dev-vSwitch"];
/// Disks a VM has: (weight, count); a few have none known to the export (`[]`).
const DISK_COUNTS: &[(u32, usize)] = &[(1, 0), (55, 1), (30, 2), (14, 3)];
const DISK_GB: &[(u32, u32)] = &[
    (20, 40),
    (25, 60),
    (25, 80),
    (15, 127),
    (10, 200),
    (4, 500),
    (1, 1024),
];
const CHECKPOINTS: &[(u32, u32)] = &[(85, 0), (10, 1), (4, 2), (1, 3)];
const OWNERS: &[&str] = &[
    "dba-team",
    "web-team",
    "platform",
    "finance-it",
    "hr-it",
    "devops",
];
const OSES: &[&str] = &[
    "Windows Server 2022",
    "Windows Server 2019",
    "Windows Server 2016",
    "Ubuntu 22.04",
    "RHEL 9",
];
const ISOS: &[&str] = &[
    "win2022.iso",
    "ubuntu-22.04.iso",
    "sql2022.iso",
    "virtio-win.iso",
    "vmguest.iso",
];

/// The facts a host offers (with `--facts`).
struct HostFacts {
    networks: Vec<&'static str>,
    cpu: &'static str,
}

/// Draws the facts: the hosts' up front, each VM's as it is written.
struct FactGen {
    rng: SplitMix64,
    hosts: Vec<HostFacts>,
    /// The anti-affinity group being filled, and how many members it still takes.
    group: Option<(String, u32)>,
}

impl FactGen {
    fn new(seed: u64, hosts: &[Host]) -> FactGen {
        let mut rng = SplitMix64(seed ^ FACTS_STREAM);
        let mut facts = Vec::with_capacity(hosts.len());
        let (mut cpu, mut networks) = ("", Vec::new());
        for i in 0..hosts.len() {
            if i % CLUSTER_SIZE == 0 {
                cpu = rng.weighted(CPU_MODELS);
                networks = BASE_NETWORKS.to_vec();
                networks.extend(EXTRA_NETWORKS.iter().filter(|_| rng.below(3) == 0));
            }
            // The odd node of another CPU model, the odd host missing a network.
            let cpu = if rng.below(20) == 0 {
                rng.weighted(CPU_MODELS)
            } else {
                cpu
            };
            let mut offers = networks.clone();
            if rng.below(100) == 0 {
                offers.pop();
            }
            facts.push(HostFacts {
                networks: offers,
                cpu,
            });
        }
        FactGen {
            rng,
            hosts: facts,
            group: None,
        }
    }

    /// Writes the facts of `vm` as the keys that follow its tags (CONTRACT 7.1).
    fn write_vm(&mut self, out: &mut dyn Write, vm: &Vm, hosts: &[Host]) -> io::Result<()> {
        let rng = &mut self.rng;
        if vm.state.0 == "off" && rng.below(20) == 0 {
            write!(out, ",\"template\":true")?;
        }
        let cluster = vm.host / CLUSTER_SIZE + 1;
        write!(out, ",\"disks\":[")?;
        for k in 0..rng.weighted(DISK_COUNTS) {
            let sep = if k == 0 { "" } else { "," };
            let gb = rng.weighted(DISK_GB);
            match rng.below(200) {
                // Local storage: a disk left on the host's own drive.
                0..=2 => write!(
                    out,
                    "{sep}{{\"path\":\"D:\\\\Hyper-V\\\\{0}\\\\{0}-{k}.vhdx\",\"shared\":false,\"size_gb\":{gb}}}",
                    vm.name
                )?,
                // Cluster shared volumes; a few records leave `shared` to be inferred.
                roll => {
                    let flag = if roll < 20 { "" } else { "\"shared\":true," };
                    write!(
                        out,
                        "{sep}{{\"path\":\"C:\\\\ClusterStorage\\\\Volume{:02}\\\\{1}\\\\{1}-{k}.vhdx\",{flag}\"size_gb\":{gb}}}",
                        cluster % 8 + 1,
                        vm.name
                    )?
                }
            }
        }
        write!(out, "],\"media\":[")?;
        if rng.below(25) == 0 {
            let iso = ISOS[rng.below(ISOS.len() as u64) as usize];
            if rng.below(4) == 0 {
                write!(out, "{{\"path\":\"C:\\\\ISO\\\\{iso}\",\"shared\":false}}")?;
            } else {
                write!(
                    out,
                    "{{\"path\":\"\\\\\\\\fs01\\\\iso\\\\{iso}\",\"shared\":true}}"
                )?;
            }
        }
        write!(out, "],\"passthrough\":[")?;
        if rng.below(100) == 0 {
            write!(out, "\"pci:0000:{:02x}:00.0\"", 0x17 + rng.below(0x60))?;
        }
        write!(out, "],\"networks\":[")?;
        let offered = &self.hosts[vm.host].networks;
        let first = rng.below(offered.len() as u64) as usize;
        write!(out, "\"{}\"", offered[first])?;
        if rng.below(10) < 3 && offered.len() > 1 {
            let second = (first + 1 + rng.below(offered.len() as u64 - 1) as usize) % offered.len();
            write!(out, ",\"{}\"", offered[second])?;
        }
        write!(
            out,
            "],\"checkpoints\":{},\"cpu_compat\":{}",
            rng.weighted(CHECKPOINTS),
            rng.below(4) == 0
        )?;
        // Anti-affinity: a group of two or three consecutive VMs starts about every 48 VMs,
        // so about 5% of the VMs are in one.
        let joined = match self.group.take() {
            Some((name, left)) => {
                if left > 1 {
                    self.group = Some((name.clone(), left - 1));
                }
                Some(name)
            }
            None if rng.below(1000) < 21 => {
                let size = if rng.below(5) < 3 { 2 } else { 3 };
                let name = format!("aa-{}", vm.name);
                self.group = Some((name.clone(), size - 1));
                Some(name)
            }
            None => None,
        };
        if let Some(name) = joined {
            write!(out, ",\"anti_affinity\":[\"{name}\"]")?;
        }
        // Allowed hosts: its own and another node of its cluster.
        if rng.below(50) == 0 {
            let start = vm.host / CLUSTER_SIZE * CLUSTER_SIZE;
            let len = CLUSTER_SIZE.min(hosts.len() - start);
            if len > 1 {
                let other =
                    start + (vm.host - start + 1 + rng.below(len as u64 - 1) as usize) % len;
                write!(
                    out,
                    ",\"allowed_hosts\":[\"{}\",\"{}\"]",
                    hosts[vm.host].name, hosts[other].name
                )?;
            }
        }
        if rng.below(3) == 0 {
            let owner = OWNERS[rng.below(OWNERS.len() as u64) as usize];
            let os = OSES[rng.below(OSES.len() as u64) as usize];
            write!(
                out,
                ",\"attributes\":{{\"owner\":\"{owner}\",\"os\":\"{os}\""
            )?;
            if rng.below(2) == 0 {
                write!(out, ",\"tier\":\"{}\"", 1 + rng.below(3))?;
            }
            write!(out, "}}")?;
        }
        Ok(())
    }
}

fn make_hosts(rng: &mut SplitMix64, count: usize) -> Vec<Host> {
    let mut hosts = Vec::with_capacity(count);
    let mut cluster_hw = HARDWARE[0].1;
    for i in 0..count {
        let (c, n) = (i / CLUSTER_SIZE + 1, i % CLUSTER_SIZE + 1);
        if n == 1 {
            // A cluster is bought as one hardware generation ...
            cluster_hw = rng.weighted(HARDWARE);
        }
        // ... with the odd node replaced by a newer or older one.
        let (mem_gib, cpus) = if rng.below(20) == 0 {
            rng.weighted(HARDWARE)
        } else {
            cluster_hw
        };
        hosts.push(Host {
            name: format!("c{c:03}-h{n:03}"),
            cluster: format!("c{c:03}"),
            state: rng.weighted(HOST_STATES),
            memory_mb: mem_gib * 1024,
            cpus,
            used_mb: 0,
        });
    }
    hosts
}

/// Draws the next VM and places it; returns it and whether it had to overcommit its host.
fn make_vm(rng: &mut SplitMix64, placer: &mut Placer, i: usize, hosts: &mut [Host]) -> (Vm, bool) {
    let role = ROLES[rng.below(ROLES.len() as u64) as usize];
    let (hi, lo) = (rng.next(), rng.next());
    // UUID v4 shape: version nibble 4, variant bits 10.
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    );
    let memory_mb = rng.weighted(VM_MEMORY);
    // Two or four GiB per vCPU, at least one, at most 32.
    let per_vcpu = if rng.below(2) == 0 { 2048 } else { 4096 };
    let vcpus = (memory_mb / per_vcpu).clamp(1, 32) as u32;
    let state = rng.weighted(VM_STATES);
    let ha = rng.below(10) != 0;
    let env = rng.weighted(ENVS);
    let role_tag = (rng.below(2) == 0).then_some(role);
    let (host, over) = placer.place(rng, hosts, memory_mb);
    hosts[host].used_mb += memory_mb;
    let vm = Vm {
        name: format!("{role}-{i:07}"),
        id,
        host,
        state,
        ha,
        memory_mb,
        vcpus,
        env,
        role_tag,
    };
    (vm, over)
}

/// Where the next VM goes: a few random hosts first (spreads VMs the way a scheduler does),
/// then every host in order, so a VM goes over a host's limit only when no host has room.
struct Placer {
    /// The smallest VM that found no room on any host: usage only grows, so VMs this big or
    /// bigger skip the full scan (keeps too-few-hosts runs linear).
    full_from: u64,
}

impl Placer {
    fn place(&mut self, rng: &mut SplitMix64, hosts: &[Host], memory_mb: u64) -> (usize, bool) {
        let fits = |h: &Host| (h.used_mb + memory_mb) * 100 <= h.memory_mb * FILL_PERCENT;
        let mut start = 0;
        for _ in 0..RANDOM_PROBES {
            start = rng.below(hosts.len() as u64) as usize;
            if fits(&hosts[start]) {
                return (start, false);
            }
        }
        if memory_mb < self.full_from {
            for k in 1..hosts.len() {
                let h = (start + k) % hosts.len();
                if fits(&hosts[h]) {
                    return (h, false);
                }
            }
            self.full_from = memory_mb;
        }
        let fill = |h: &Host| h.used_mb as f64 / h.memory_mb as f64;
        let least = (0..hosts.len())
            .min_by(|&a, &b| fill(&hosts[a]).total_cmp(&fill(&hosts[b])))
            .unwrap_or(0);
        (least, true)
    }
}

fn write_native_head(
    out: &mut dyn Write,
    hosts: &[Host],
    facts: Option<&FactGen>,
) -> io::Result<()> {
    write!(
        out,
        "{{\"schema\":\"preflight/inventory/v1\",\"collected_at\":\"{COLLECTED_AT}\",\"platform\":\"hyperv\",\n\"hosts\":["
    )?;
    for (i, h) in hosts.iter().enumerate() {
        let sep = if i == 0 { "\n" } else { ",\n" };
        write!(
            out,
            "{sep}{{\"name\":\"{}\",\"cluster\":\"{}\",\"state\":\"{}\",\"memory_mb\":{},\"cpus\":{}",
            h.name, h.cluster, h.state, h.memory_mb, h.cpus
        )?;
        if let Some(f) = facts.map(|f| &f.hosts[i]) {
            write!(
                out,
                ",\"networks\":[\"{}\"],\"cpu\":\"{}\"",
                f.networks.join("\",\""),
                f.cpu
            )?;
        }
        write!(out, "}}")?;
    }
    write!(out, "\n],\n\"vms\":[")
}

fn write_native_vm(
    out: &mut dyn Write,
    first: bool,
    vm: &Vm,
    hosts: &[Host],
    facts: Option<&mut FactGen>,
) -> io::Result<()> {
    let sep = if first { "\n" } else { ",\n" };
    write!(
        out,
        "{sep}{{\"name\":\"{}\",\"id\":\"{}\",\"host\":\"{}\",\"state\":\"{}\",\"ha\":{},\"memory_mb\":{},\"vcpus\":{},\"tags\":[\"{}\"",
        vm.name, vm.id, hosts[vm.host].name, vm.state.0, vm.ha, vm.memory_mb, vm.vcpus, vm.env
    )?;
    if let Some(role) = vm.role_tag {
        write!(out, ",\"{role}\"")?;
    }
    write!(out, "]")?;
    if let Some(facts) = facts {
        facts.write_vm(out, vm, hosts)?;
    }
    write!(out, "}}")
}

/// One VM as PowerShell 5.1's ConvertTo-Json prints it, `indent` spaces in (4 inside an array,
/// 0 for a lone VM, which PowerShell writes as a bare object).
fn write_scvmm_vm(out: &mut dyn Write, indent: usize, vm: &Vm, hosts: &[Host]) -> io::Result<()> {
    let pad = " ".repeat(indent);
    let field = " ".repeat(indent + 4);
    write!(
        out,
        "{pad}{{\r\n\
         {field}\"Name\":  \"{}\",\r\n\
         {field}\"ID\":  \"{}\",\r\n\
         {field}\"HostName\":  \"{}.{DOMAIN}\",\r\n\
         {field}\"Status\":  {},\r\n\
         {field}\"IsHighlyAvailable\":  {},\r\n\
         {field}\"Memory\":  {},\r\n\
         {field}\"CPUCount\":  {}\r\n\
         {pad}}}",
        vm.name, vm.id, hosts[vm.host].name, vm.state.1, vm.ha, vm.memory_mb, vm.vcpus
    )
}

/// Widens ASCII text to UTF-16 LE, as PowerShell 5.1's `>` redirection writes it. Everything
/// this generator writes is ASCII, so widening a byte is the whole encoding.
struct Utf16Le<W: Write> {
    inner: W,
    wide: Vec<u8>,
}

impl<W: Write> Write for Utf16Le<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.is_ascii() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "non-ASCII text"));
        }
        self.wide.clear();
        self.wide.extend(buf.iter().flat_map(|&b| [b, 0]));
        self.inner.write_all(&self.wide)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the inventory `args` describe to `sink`; returns how many VMs overcommitted a host.
/// (`tests/large_inventory.rs` includes this file to generate its input.)
pub(crate) fn generate(args: &Args, sink: Box<dyn Write>) -> io::Result<usize> {
    let mut rng = SplitMix64(args.seed);
    let mut hosts = make_hosts(&mut rng, args.hosts);
    let mut placer = Placer {
        full_from: u64::MAX,
    };
    let mut overcommitted = 0;
    match args.format {
        OutFormat::Native => {
            let mut out = BufWriter::with_capacity(1 << 16, sink);
            let mut facts = args.facts.then(|| FactGen::new(args.seed, &hosts));
            write_native_head(&mut out, &hosts, facts.as_ref())?;
            for i in 0..args.vms {
                let (vm, over) = make_vm(&mut rng, &mut placer, i + 1, &mut hosts);
                overcommitted += usize::from(over);
                write_native_vm(&mut out, i == 0, &vm, &hosts, facts.as_mut())?;
            }
            write!(out, "\n]}}\n")?;
            out.flush()?;
        }
        OutFormat::ScvmmUtf16 => {
            let mut sink = sink;
            sink.write_all(&[0xFF, 0xFE])?;
            let wide = Utf16Le {
                inner: sink,
                wide: Vec::with_capacity(1 << 17),
            };
            let mut out = BufWriter::with_capacity(1 << 16, wide);
            let lone = args.vms == 1;
            if !lone {
                write!(out, "[\r\n")?;
            }
            for i in 0..args.vms {
                let (vm, over) = make_vm(&mut rng, &mut placer, i + 1, &mut hosts);
                overcommitted += usize::from(over);
                if i > 0 {
                    write!(out, ",\r\n")?;
                }
                write_scvmm_vm(&mut out, if lone { 0 } else { 4 }, &vm, &hosts)?;
            }
            write!(out, "{}\r\n", if lone { "" } else { "\r\n]" })?;
            out.flush()?;
        }
    }
    Ok(overcommitted)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.hosts == 0 && args.vms > 0 {
        eprintln!("error: VMs need at least one host (--hosts)");
        return ExitCode::from(2);
    }
    if args.format == OutFormat::ScvmmUtf16 && args.vms == 0 {
        // ConvertTo-Json of an empty pipeline prints nothing at all: no file to imitate.
        eprintln!("error: the SCVMM export of no VMs is empty; use --vms 1 or more");
        return ExitCode::from(2);
    }
    if args.format != OutFormat::Native && args.facts {
        eprintln!("error: --facts writes the native format only");
        return ExitCode::from(2);
    }
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => match File::create(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    match generate(&args, sink) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("warning: {n} VMs put a host over 85% memory: too few hosts for the VMs");
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
