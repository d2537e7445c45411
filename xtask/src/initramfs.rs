//! The guest image: a base initramfs (busybox, sid's xfsprogs and libraries,
//! a few kernel modules, our init) built once, plus a small payload archive
//! per run (scenario, helper library, healer binary). The kernel unpacks
//! concatenated cpio archives in order, so the payload rides on the base.

use crate::cache::{Cache, repo_root};
use crate::command::run;
use crate::deps::BUSYBOX;
use crate::fetch::kernel_release;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Modules the scenarios need; their dependencies are added from modinfo.
/// ext4 and virtio_pci are built into the cloud kernel.
const MODULES: &[&str] = &["xfs", "virtio_blk", "loop", "dm-mod", "dm-flakey"];

/// Paths of the unpacked sid root copied into the guest.
const ROOT_PARTS: &[&str] = &[
    "usr/lib/x86_64-linux-gnu",
    "usr/lib64",
    "usr/sbin",
    "usr/bin",
    "usr/libexec/xfsprogs",
    "usr/lib/systemd",
    "usr/lib/tmpfiles.d",
    "usr/lib/sysusers.d",
    "var/lib/dpkg",
];

pub struct Images {
    pub kernel: PathBuf,
    pub base_initrd: PathBuf,
}

/// Decompresses a .ko.xz / .ko.zst / .ko into memory.
fn module_bytes(path: &Path) -> Result<Vec<u8>> {
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".xz") {
        Some("xz")
    } else if name.ends_with(".zst") {
        Some("zstd")
    } else {
        None
    };
    match tool {
        None => Ok(fs::read(path)?),
        Some(tool) => {
            let out = Command::new(tool).arg("-dc").arg(path).output()?;
            if !out.status.success() {
                bail!("{tool} -dc {} failed", path.display());
            }
            Ok(out.stdout)
        }
    }
}

/// `depends=` from a module's .modinfo strings (no modules.dep is shipped:
/// depmod runs at install time).
fn module_depends(ko: &[u8]) -> Vec<String> {
    ko.split(|&b| b == 0)
        .find_map(|s| s.strip_prefix(b"depends="))
        .map(|d| {
            String::from_utf8_lossy(d)
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn find_modules(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_modules(&path, out)?;
        } else if path.to_string_lossy().contains(".ko") {
            out.push(path);
        }
    }
    Ok(())
}

fn module_name(path: &Path) -> String {
    let file = path.file_name().expect("file").to_string_lossy();
    file.split(".ko").next().unwrap_or(&file).replace('_', "-")
}

/// Copies MODULES and their dependencies, decompressed, into STAGE/lib/modules
/// and writes the load order (dependencies first) to STAGE/etc/modules.order.
fn stage_modules(root: &Path, release: &str, stage: &Path) -> Result<()> {
    let mut all = Vec::new();
    find_modules(
        &root.join("usr/lib/modules").join(release).join("kernel"),
        &mut all,
    )?;
    let dest = stage.join("lib/modules");
    fs::create_dir_all(&dest)?;
    let mut order: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    fn visit(
        name: &str,
        all: &[PathBuf],
        dest: &Path,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) -> Result<()> {
        let key = name.replace('_', "-");
        if !seen.insert(key.clone()) {
            return Ok(());
        }
        let Some(path) = all.iter().find(|p| module_name(p) == key) else {
            return Ok(()); // built into the kernel
        };
        let bytes = module_bytes(path)?;
        for dep in module_depends(&bytes) {
            visit(&dep, all, dest, seen, order)?;
        }
        fs::write(dest.join(format!("{key}.ko")), bytes)?;
        order.push(format!("{key}.ko"));
        Ok(())
    }
    for name in MODULES {
        visit(name, &all, &dest, &mut seen, &mut order)?;
    }
    fs::write(stage.join("etc/modules.order"), order.join("\n") + "\n")?;
    Ok(())
}

/// `./`-relative names of everything below DIR (symlinks not followed),
/// as `find . -print` lists them.
fn tree_names(dir: &Path, prefix: &[u8], names: &mut Vec<Vec<u8>>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let mut name = prefix.to_vec();
        name.push(b'/');
        name.extend_from_slice(entry.file_name().as_bytes());
        if entry.file_type()?.is_dir() {
            tree_names(&entry.path(), &name, names)?;
        }
        names.push(name);
    }
    Ok(())
}

/// Archives STAGE as a newc cpio at OUT: `cpio -o` in STAGE is fed every
/// name, sorted bytewise (so the same tree gives the same archive),
/// NUL-separated, through a pipe; no shell sees the paths.
fn cpio(stage: &Path, out: &Path) -> Result<()> {
    let mut names = vec![b".".to_vec()];
    tree_names(stage, b".", &mut names)?;
    names.sort();
    let mut child = Command::new("cpio")
        .args(["-o", "-0", "-H", "newc", "--quiet"])
        .current_dir(stage)
        .stdin(Stdio::piped())
        .stdout(fs::File::create(out).with_context(|| format!("creating {}", out.display()))?)
        .spawn()
        .context("running cpio")?;
    let mut stdin = child.stdin.take().expect("piped");
    let fed = names.iter().try_for_each(|name| {
        stdin.write_all(name)?;
        stdin.write_all(b"\0")
    });
    drop(stdin);
    let status = child.wait()?;
    fed.context("feeding cpio its names")?;
    if !status.success() {
        bail!("cpio -o in {} failed: {status}", stage.display());
    }
    Ok(())
}

/// Builds (or reuses) the base initramfs; returns the kernel and base image.
pub fn build_base(cache: &Cache, root: &Path) -> Result<Images> {
    let release = kernel_release(root)?;
    let kernel = root.join("usr/lib/modules").join(&release).join("vmlinuz");
    let base_initrd = cache.path("base.cpio");
    let stamp_path = cache.path("base.stamp");
    let init = fs::read(repo_root().join("vm/guest/init"))?;
    let stamp = format!(
        "{}\n{}\n{}\n",
        fs::read_to_string(cache.path("root.stamp")).unwrap_or_default(),
        release,
        String::from_utf8_lossy(&init)
    );
    if base_initrd.exists()
        && fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
    {
        return Ok(Images {
            kernel,
            base_initrd,
        });
    }
    eprintln!("xtask: building the base initramfs for {release}");
    let stage = cache.path("stage");
    let _ = fs::remove_dir_all(&stage);
    for dir in [
        "bin", "etc", "proc", "sys", "dev", "run", "tmp", "mnt", "results", "payload", "var/tmp",
    ] {
        fs::create_dir_all(stage.join(dir))?;
    }
    for part in ROOT_PARTS {
        let src = root.join(part);
        if src.exists() {
            let dst = stage.join(part);
            fs::create_dir_all(dst.parent().expect("has parent"))?;
            run(Command::new("cp").arg("-a").arg(&src).arg(&dst))?;
        }
    }
    std::os::unix::fs::symlink("usr/lib", stage.join("lib"))?;
    std::os::unix::fs::symlink("usr/lib64", stage.join("lib64"))?;
    std::os::unix::fs::symlink("bin", stage.join("sbin"))?;
    fs::copy(BUSYBOX, stage.join("bin/busybox"))?;
    stage_modules(root, &release, &stage)?;
    fs::write(stage.join("init"), &init)?;
    fs::set_permissions(stage.join("init"), fs::Permissions::from_mode(0o755))?;
    fs::write(stage.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    fs::write(stage.join("etc/group"), "root:x:0:\n")?;
    fs::write(stage.join("etc/mtab"), "")?;
    let tmp = cache.path("base.cpio.tmp");
    cpio(&stage, &tmp)?;
    fs::rename(&tmp, &base_initrd)?;
    fs::write(&stamp_path, stamp)?;
    let _ = fs::remove_dir_all(&stage);
    Ok(Images {
        kernel,
        base_initrd,
    })
}

/// Writes the per-run payload archive and returns base + payload as one
/// initrd file in WORKDIR.
pub fn build_initrd(
    images: &Images,
    workdir: &Path,
    payload: &[(&str, Vec<u8>, u32)],
) -> Result<PathBuf> {
    let stage = workdir.join("payload-stage");
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(stage.join("payload"))?;
    for (name, bytes, mode) in payload {
        let path = stage.join("payload").join(name);
        fs::write(&path, bytes)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(*mode))?;
    }
    let payload_cpio = workdir.join("payload.cpio");
    cpio(&stage, &payload_cpio)?;
    let initrd = workdir.join("initrd");
    let mut bytes = fs::read(&images.base_initrd)?;
    bytes.extend(fs::read(&payload_cpio)?);
    fs::write(&initrd, bytes)?;
    let _ = fs::remove_dir_all(&stage);
    Ok(initrd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths no shell quoting survives: the stage and the archive live
    /// under a directory named with a quote, a space and a `$`.
    #[test]
    fn cpio_takes_any_path_and_sorts_the_names() {
        let top = std::env::temp_dir().join(format!("xtask cpio 'q' $HOME {}", std::process::id()));
        let stage = top.join("stage");
        fs::create_dir_all(stage.join("b dir/sub")).unwrap();
        fs::write(stage.join("b dir/sub/it's"), b"x").unwrap();
        fs::write(stage.join("a-file"), b"y").unwrap();
        std::os::unix::fs::symlink("b dir", stage.join("link")).unwrap();
        let out = top.join("out's.cpio");
        cpio(&stage, &out).unwrap();
        let listed = Command::new("cpio")
            .args(["-it", "--quiet"])
            .stdin(fs::File::open(&out).unwrap())
            .output()
            .unwrap();
        assert!(listed.status.success());
        assert_eq!(
            String::from_utf8(listed.stdout).unwrap(),
            ".\na-file\nb dir\nb dir/sub\nb dir/sub/it's\nlink\n"
        );
        fs::remove_dir_all(&top).unwrap();
    }
}
