//! Downloads the pinned Debian sid packages (kernel, xfsprogs, libraries)
//! with a private apt configuration and unpacks them into the guest root.
//!
//! The mirror is read from the system's own apt sources at run time, and the
//! system's apt configuration is never changed: every state and cache path of
//! the private configuration points into the harness cache.

use crate::cache::{Cache, repo_root};
use crate::command::output;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a pinned package is for; drives the fallback when sid moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    KernelBinary,
    KernelModules,
    Xfsprogs,
    Library,
}

#[derive(Debug, Clone)]
struct Pin {
    name: String,
    version: String,
    role: Role,
}

fn read_pins() -> Result<Vec<Pin>> {
    let path = repo_root().join("vm/packages.lock");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut pins = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let role = match fields.get(2) {
            Some(&"kernel-binary") => Role::KernelBinary,
            Some(&"kernel-modules") => Role::KernelModules,
            Some(&"xfsprogs") => Role::Xfsprogs,
            None => Role::Library,
            Some(other) => bail!("{}: unknown role {other:?}", path.display()),
        };
        let [name, version, ..] = fields[..] else {
            bail!("{}: bad line {line:?}", path.display());
        };
        pins.push(Pin {
            name: name.into(),
            version: version.into(),
            role,
        });
    }
    Ok(pins)
}

/// The Debian mirror URI from the system's apt sources (deb822 `.sources`
/// files first, then one-line `sources.list`), skipping security mirrors.
fn system_mirror() -> Result<String> {
    if let Ok(uri) = std::env::var("XFS_HEALER_DEBIAN_MIRROR") {
        return Ok(uri);
    }
    let mut candidates = Vec::new();
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "sources"))
        {
            let text = fs::read_to_string(file).unwrap_or_default();
            for stanza in text.split("\n\n") {
                let field = |key: &str| {
                    stanza.lines().find_map(|l| {
                        l.strip_prefix(key)
                            .and_then(|r| r.strip_prefix(':'))
                            .map(str::trim)
                    })
                };
                let signed_by_debian =
                    field("Signed-By").is_some_and(|s| s.contains("debian-archive-keyring"));
                if let (Some(uris), true) = (field("URIs"), signed_by_debian) {
                    candidates.extend(uris.split_whitespace().map(String::from));
                }
            }
        }
    }
    for file in ["/etc/apt/sources.list"] {
        for line in fs::read_to_string(file).unwrap_or_default().lines() {
            let mut words = line.split_whitespace().filter(|w| !w.starts_with('['));
            if words.next() == Some("deb")
                && let Some(uri) = words.find(|w| w.contains("://"))
            {
                candidates.push(uri.to_string());
            }
        }
    }
    candidates
        .into_iter()
        .find(|uri| uri.trim_end_matches('/').ends_with("/debian"))
        .context(
            "no Debian mirror found in /etc/apt/sources.list{,.d}; set XFS_HEALER_DEBIAN_MIRROR",
        )
}

/// apt-get / apt-cache bound to the private sid configuration in the cache.
struct PrivateApt {
    dir: PathBuf,
}

impl PrivateApt {
    fn new(cache: &Cache) -> Result<PrivateApt> {
        let dir = cache.path("apt");
        for sub in ["lists/partial", "archives/partial", "etc"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        let status = dir.join("status");
        if !status.exists() {
            fs::write(&status, "")?;
        }
        let mirror = system_mirror()?;
        fs::write(
            dir.join("etc/sources.list"),
            format!(
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} sid main\n"
            ),
        )?;
        Ok(PrivateApt { dir })
    }

    fn command(&self, tool: &str) -> Command {
        let d = |rel: &str| self.dir.join(rel).display().to_string();
        let mut cmd = Command::new(tool);
        for (key, value) in [
            ("Dir::Etc::sourcelist", d("etc/sources.list")),
            ("Dir::Etc::sourceparts", "-".into()),
            ("Dir::State::Lists", d("lists")),
            ("Dir::State::status", d("status")),
            ("Dir::Cache::archives", d("archives")),
            ("Dir::Cache::pkgcache", d("pkgcache.bin")),
            ("Dir::Cache::srcpkgcache", d("srcpkgcache.bin")),
            ("APT::Architecture", "amd64".into()),
            ("APT::Sandbox::User", "root".into()),
            (
                "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled",
                "false".into(),
            ),
            (
                "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled",
                "false".into(),
            ),
            (
                "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled",
                "false".into(),
            ),
        ] {
            cmd.arg("-o").arg(format!("{key}={value}"));
        }
        cmd
    }

    fn update(&self) -> Result<()> {
        eprintln!("xtask: refreshing the sid package lists");
        let ok = self
            .command("apt-get")
            .args(["-qq", "update"])
            .status()?
            .success();
        if !ok {
            bail!("apt-get update for the private sid configuration failed");
        }
        Ok(())
    }

    /// Downloads NAME=VERSION into `dest`; returns the .deb path, or None
    /// when that version is not in the archive.
    fn download(&self, name: &str, version: &str, dest: &Path) -> Result<Option<PathBuf>> {
        let tmp = dest.join(".download");
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp)?;
        let out = self
            .command("apt-get")
            .args(["-qq", "download", &format!("{name}={version}")])
            .current_dir(&tmp)
            .output()?;
        let deb = fs::read_dir(&tmp)?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "deb"));
        match (out.status.success(), deb) {
            (true, Some(deb)) => {
                let final_path = dest.join(deb.file_name().expect("a file"));
                fs::rename(&deb, &final_path)?;
                Ok(Some(final_path))
            }
            _ => Ok(None),
        }
    }

    /// The newest version apt knows of NAME, if any.
    fn candidate(&self, name: &str) -> Result<Option<String>> {
        let out = self
            .command("apt-cache")
            .args(["show", "--no-all-versions", name])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("Version: ").map(String::from)))
    }

    fn package_names(&self, prefix: &str) -> Result<Vec<String>> {
        let out = self
            .command("apt-cache")
            .args(["pkgnames", prefix])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect())
    }
}

fn version_gt(a: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, "gt", b])
        .status()
        .is_ok_and(|s| s.success())
}

/// The newest 7.x cloud kernel in sid: (binary package, modules package, version).
fn newest_cloud_kernel(apt: &PrivateApt) -> Result<(String, String, String)> {
    let mut best: Option<(String, String)> = None;
    for name in apt.package_names("linux-binary-7.")? {
        if !name.ends_with("-cloud-amd64") {
            continue;
        }
        if let Some(version) = apt.candidate(&name)?
            && best.as_ref().is_none_or(|(_, v)| version_gt(&version, v))
        {
            best = Some((name, version));
        }
    }
    let (binary, version) =
        best.context("sid has no linux-binary-7.*-cloud-amd64 package any more")?;
    let modules = binary.replacen("linux-binary-", "linux-modules-", 1);
    Ok((binary, modules, version))
}

/// The pins after applying fallbacks, as NAME -> VERSION, plus the .debs.
fn resolve_and_download(cache: &Cache, pins: &[Pin]) -> Result<Vec<PathBuf>> {
    let debs_dir = cache.path("debs");
    fs::create_dir_all(&debs_dir)?;
    let manifest_path = cache.path("debs/manifest");
    let manifest: BTreeMap<String, String> = fs::read_to_string(&manifest_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    // Fast path: every pin already downloaded, no network needed.
    let cached: Option<Vec<PathBuf>> = pins
        .iter()
        .map(|p| {
            manifest
                .get(&format!("{}={}", p.name, p.version))
                .map(|f| debs_dir.join(f))
        })
        .map(|p| p.filter(|p| p.exists()))
        .collect();
    if let Some(debs) = cached {
        return Ok(debs);
    }

    let apt = PrivateApt::new(cache)?;
    apt.update()?;
    let mut new_manifest = manifest.clone();
    let mut debs = Vec::new();
    let mut kernel_fallback: Option<(String, String, String)> = None;
    for pin in pins {
        let key = format!("{}={}", pin.name, pin.version);
        if let Some(file) = manifest.get(&key).filter(|f| debs_dir.join(f).exists()) {
            debs.push(debs_dir.join(file));
            continue;
        }
        if let Some(deb) = apt.download(&pin.name, &pin.version, &debs_dir)? {
            new_manifest.insert(key, file_name(&deb));
            debs.push(deb);
            continue;
        }
        // The pin has left the archive: fall back, say so, keep going.
        let (name, version) = match pin.role {
            Role::KernelBinary | Role::KernelModules => {
                if kernel_fallback.is_none() {
                    kernel_fallback = Some(newest_cloud_kernel(&apt)?);
                }
                let (binary, modules, version) = kernel_fallback.clone().expect("set above");
                let name = if pin.role == Role::KernelBinary {
                    binary
                } else {
                    modules
                };
                (name, version)
            }
            Role::Xfsprogs | Role::Library => {
                let version = apt
                    .candidate(&pin.name)?
                    .with_context(|| format!("{} is no longer in sid at all", pin.name))?;
                if pin.role == Role::Xfsprogs && version_gt("7.2", &version) {
                    bail!(
                        "sid's {} is {version}, older than the 7.2 the tests need",
                        pin.name
                    );
                }
                (pin.name.clone(), version)
            }
        };
        eprintln!(
            "xtask: NOTE: pinned {}={} is gone from sid; falling back to {name}={version} \
             (update vm/packages.lock)",
            pin.name, pin.version
        );
        let deb = apt
            .download(&name, &version, &debs_dir)?
            .with_context(|| format!("downloading fallback {name}={version}"))?;
        new_manifest.insert(key, file_name(&deb));
        debs.push(deb);
    }
    let text: String = new_manifest
        .iter()
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect();
    fs::write(&manifest_path, text)?;
    Ok(debs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned()
}

/// Makes sure the pinned packages are downloaded and unpacked; returns the
/// unpacked root. Quick and offline when nothing changed.
pub fn fetch(cache: &Cache) -> Result<PathBuf> {
    let pins = read_pins()?;
    let debs = resolve_and_download(cache, &pins)?;
    let root = cache.path("root");
    let stamp = cache.path("root.stamp");
    let wanted: String = std::iter::once(ROOT_LAYOUT.to_string())
        .chain(debs.iter().map(|d| format!("{}\n", file_name(d))))
        .collect();
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && root.exists() {
        return Ok(root);
    }
    eprintln!("xtask: unpacking {} packages", debs.len());
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root)?;
    for deb in &debs {
        let ok = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb)
            .arg(&root)
            .status()?
            .success();
        if !ok {
            bail!("dpkg-deb -x {} failed", deb.display());
        }
    }
    write_dpkg_database(&root, &debs)?;
    fs::write(&stamp, wanted)?;
    Ok(root)
}

/// Bumped when what [`fetch`] makes of the same packages changes, so that a
/// cached root is unpacked again.
const ROOT_LAYOUT: &str = "root layout 3: a dpkg database\n";

/// `var/lib/dpkg` under ROOT as dpkg would leave it after installing DEBS:
/// each package `install ok installed` in `status`, its files in
/// `info/<package>.list`. A guest can then install our package with
/// `dpkg -i` over sid's xfsprogs, whose files dpkg knows are its own.
fn write_dpkg_database(root: &Path, debs: &[PathBuf]) -> Result<()> {
    let admin = root.join("var/lib/dpkg");
    for dir in ["info", "updates", "triggers", "alternatives"] {
        fs::create_dir_all(admin.join(dir))?;
    }
    let mut status = String::new();
    for deb in debs {
        let control = output(Command::new("dpkg-deb").arg("-f").arg(deb))?;
        let field = |name: &str| {
            control
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
                .map(str::to_string)
                .with_context(|| format!("{}: no {name} field", deb.display()))
        };
        let package = field("Package")?;
        let mut entry = String::new();
        for line in control.lines() {
            entry.push_str(line);
            entry.push('\n');
            if line.starts_with("Package: ") {
                entry.push_str("Status: install ok installed\n");
            }
        }
        status.push_str(&entry);
        status.push('\n');
        // A Multi-Arch: same package's files are listed under name:arch.
        let list_name = if field("Multi-Arch").is_ok_and(|m| m == "same") {
            format!("{package}:{}.list", field("Architecture")?)
        } else {
            format!("{package}.list")
        };
        let names = output(Command::new("dpkg-deb").arg("-c").arg(deb))?;
        let list: String = names
            .lines()
            .filter_map(listed_path)
            .map(|path| format!("{path}\n"))
            .collect();
        fs::write(admin.join("info").join(list_name), list)?;
    }
    fs::write(admin.join("status"), status)?;
    // The multiarch layout (name:arch.list), as dpkg >= 1.16.2 writes it.
    fs::write(admin.join("info/format"), "1\n")?;
    fs::write(admin.join("diversions"), "")?;
    fs::write(admin.join("statoverride"), "")?;
    Ok(())
}

/// The path dpkg records for one line of `dpkg-deb -c` (a `tar -tv` line:
/// mode, owner, size, date, time, `./name`, then ` -> target` for a
/// symbolic link or ` link to ./other` for a hard one): `/.` for the top
/// directory, no trailing slash.
fn listed_path(line: &str) -> Option<String> {
    let name = &line[line.find(" ./")? + 2..];
    let link = if line.starts_with('h') {
        " link to "
    } else {
        " -> "
    };
    let name = name.split_once(link).map_or(name, |(name, _)| name);
    let name = name.trim_end_matches('/');
    Some(if name.is_empty() {
        "/.".to_string()
    } else {
        name.to_string()
    })
}

/// The kernel release unpacked in ROOT (the directory name under
/// usr/lib/modules holding a vmlinuz).
pub fn kernel_release(root: &Path) -> Result<String> {
    let modules = root.join("usr/lib/modules");
    for entry in fs::read_dir(&modules).with_context(|| format!("reading {}", modules.display()))? {
        let entry = entry?;
        if entry.path().join("vmlinuz").exists() {
            return Ok(entry.file_name().to_string_lossy().into_owned());
        }
    }
    bail!("no usr/lib/modules/*/vmlinuz in {}", root.display())
}

#[cfg(test)]
mod tests {
    use super::listed_path;

    #[test]
    fn dpkg_lists_paths_as_dpkg_deb_shows_them() {
        let line = |rest: &str| listed_path(rest).unwrap();
        assert_eq!(line("drwxr-xr-x root/root 0 2026-06-01 12:00 ./"), "/.");
        assert_eq!(
            line("drwxr-xr-x root/root 0 2026-06-01 12:00 ./usr/sbin/"),
            "/usr/sbin"
        );
        assert_eq!(
            line("-rwxr-xr-x root/root 9 2026-06-01 12:00 ./usr/sbin/xfs_scrub"),
            "/usr/sbin/xfs_scrub"
        );
        assert_eq!(
            line("lrwxrwxrwx root/root 0 2026-06-01 12:00 ./usr/lib/a b.so -> a b.so.1"),
            "/usr/lib/a b.so"
        );
        assert_eq!(
            line("hrwxr-xr-x root/root 0 2026-06-01 12:00 ./usr/bin/perl5 link to ./usr/bin/perl"),
            "/usr/bin/perl5"
        );
        assert_eq!(listed_path("no path here"), None);
    }
}
