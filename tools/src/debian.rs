//! Debian's armhf packages for a Linux guest: fetched, cached, extracted.
//!
//! - `apt-get download` with a private sources list, private lists and a
//!   private cache under `target/mvm/debian/`: the host's sources, lists,
//!   cache and locks are neither used nor changed, and root is not needed.
//!   Only the host's `apt.conf` applies, for its proxy settings.
//! - Only Debian bookworm main, and only its `Packages` index: one signed
//!   source, about 9 MB to fetch, that the pins below come from.
//! - A package is fetched once: `target/mvm/debian/<package>_<version>/`
//!   holds it extracted, and a later call with that folder present runs no
//!   program at all. `apt-get update` runs only when the private lists do
//!   not know the version asked for (or the download failed).
//! - Folders appear whole (extracted beside, then renamed), and a lock file
//!   keeps two processes from fetching at once, so an interrupted or
//!   concurrent run leaves no half package behind.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A package and the exact version to fetch: the versions the tests use
/// (a system description names its own, as `partitions/examples/linux.toml`
/// names these).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    pub package: &'static str,
    pub version: &'static str,
}

/// The kernel: Debian's multiplatform Armv7 build, which has the vexpress
/// drivers (PL011, SP804, GIC) built in, and devtmpfs and gzip initramfs
/// support. Debian drops an ABI's package (`6.1.0-50`) from the archive when
/// a point release brings the next one: then [`fetch`] names the versions
/// left and this pin (with [`KERNEL_ZIMAGE`]) moves on.
#[cfg(test)]
pub const KERNEL: Pin = Pin {
    package: "linux-image-6.1.0-50-armmp",
    version: "6.1.176-1",
};

/// The zImage inside [`KERNEL`]'s package.
#[cfg(test)]
pub const KERNEL_ZIMAGE: &str = "boot/vmlinuz-6.1.0-50-armmp";

/// Busybox, statically linked: the whole userspace of the initramfs.
#[cfg(test)]
pub const BUSYBOX: Pin = Pin {
    package: "busybox-static",
    version: "1:1.35.0-4+deb12u1+b1",
};

/// The program inside [`BUSYBOX`]'s package.
pub const BUSYBOX_BINARY: &str = "bin/busybox";

/// The one archive packages come from.
const MIRROR: &str = "http://deb.debian.org/debian";
const SUITE: &str = "bookworm";
/// The keys the archive is checked with, and the package that installs them.
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const KEYRING_PACKAGE: &str = "debian-archive-keyring";
/// What the archive is, for messages.
const ARCHIVE: &str = "Debian bookworm main (armhf)";

/// The cache, relative to the workspace root.
pub const CACHE: &str = "target/mvm/debian";

/// A package, extracted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub package: String,
    pub version: String,
    /// The package's files, as `dpkg-deb -x` writes them.
    pub dir: PathBuf,
    /// Whether this call ran `apt-get` (and so used the network); false
    /// when the package came from the cache.
    pub downloaded: bool,
}

impl Package {
    /// A file of the package, which must be there.
    pub fn file(&self, path: &str) -> Result<PathBuf, String> {
        let file = self.dir.join(path);
        if file.is_file() {
            Ok(file)
        } else {
            Err(format!(
                "Debian package `{}` version `{}` has no file `{path}` (looked in `{}`; remove that folder to extract the package again)",
                self.package,
                self.version,
                self.dir.display()
            ))
        }
    }
}

/// `package` at exactly `version`, for armhf, extracted under the cache of
/// the workspace at `root`; fetched with `apt-get` only if not cached.
pub fn fetch(root: &Path, package: &str, version: &str) -> Result<Package, String> {
    check_name(package, version)?;
    let cache = root.join(CACHE);
    let dir = cache.join(format!("{package}_{}", escape(version)));
    let found = |downloaded| Package {
        package: package.to_string(),
        version: version.to_string(),
        dir: dir.clone(),
        downloaded,
    };
    if dir.is_dir() {
        return Ok(found(false));
    }
    create_dir(&cache)?;
    let lock_path = cache.join("lock");
    let lock = fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create `{}`: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock `{}`: {e}", lock_path.display()))?;
    // Another process may have fetched it while this one waited.
    if dir.is_dir() {
        return Ok(found(false));
    }
    let debs = cache.join("debs");
    let (deb, downloaded) = match cached_deb(&debs, package, version)? {
        Some(deb) => (deb, false),
        None => (Apt::new(&cache)?.download(package, version, &debs)?, true),
    };
    extract(&deb, &dir)?;
    Ok(found(downloaded))
}

/// [`KERNEL`]'s zImage, fetched if needed (the tests' pin).
#[cfg(test)]
pub fn kernel_zimage(root: &Path) -> Result<PathBuf, String> {
    fetch(root, KERNEL.package, KERNEL.version)?.file(KERNEL_ZIMAGE)
}

/// [`BUSYBOX`]'s program, fetched if needed (the tests' pin).
#[cfg(test)]
pub fn busybox_binary(root: &Path) -> Result<PathBuf, String> {
    fetch(root, BUSYBOX.package, BUSYBOX.version)?.file(BUSYBOX_BINARY)
}

/// Package names and versions go into file names and apt's arguments:
/// refuse anything Debian would not have (Debian Policy 5.6.1 and 5.6.12).
fn check_name(package: &str, version: &str) -> Result<(), String> {
    let package_ok = package.len() >= 2
        && package.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && package
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !package_ok {
        return Err(format!("`{package}` is not a Debian package name"));
    }
    let version_ok = version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-:".contains(c));
    if !version_ok {
        return Err(format!(
            "`{version}` is not a Debian version (package `{package}`)"
        ));
    }
    Ok(())
}

/// A version as it appears in file names (the epoch's `:` as apt writes it).
fn escape(version: &str) -> String {
    version.replace(':', "%3a")
}

fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))
}

/// The `.deb` of `package` at `version` in `debs`, if downloaded before.
fn cached_deb(debs: &Path, package: &str, version: &str) -> Result<Option<PathBuf>, String> {
    let prefix = format!("{package}_{}_", escape(version));
    let entries = match fs::read_dir(debs) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read `{}`: {e}", debs.display())),
    };
    Ok(entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
    }))
}

/// `dpkg-deb -x deb dir`, through a folder beside `dir` renamed at the end.
fn extract(deb: &Path, dir: &Path) -> Result<(), String> {
    let partial = dir.with_extension("partial");
    if partial.exists() {
        fs::remove_dir_all(&partial)
            .map_err(|e| format!("cannot remove `{}`: {e}", partial.display()))?;
    }
    let mut command = Command::new("dpkg-deb");
    command.arg("-x").arg(deb).arg(&partial);
    run(&mut command, "dpkg-deb")?;
    fs::rename(&partial, dir).map_err(|e| {
        format!(
            "cannot rename `{}` to `{}`: {e}",
            partial.display(),
            dir.display()
        )
    })
}

/// Runs `command`; an error names `program` and shows its standard error.
fn run(command: &mut Command, program: &str) -> Result<Output, String> {
    let output = command.output().map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            format!(
                "`{program}` is not on this host: fetching Debian's packages needs a Debian or Ubuntu host (apt-get and dpkg-deb); elsewhere, give the guest's kernel as a file (`kernel = \"path/to/zImage\"`)"
            )
        } else {
            format!("cannot run `{program}`: {e}")
        }
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "`{}` failed ({}):\n{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ))
    }
}

/// `command` as a shell line, for messages.
fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// apt would fail on a missing keyring with a message about signatures;
/// this names the package to install instead.
fn check_keyring(keyring: &Path) -> Result<(), String> {
    if keyring.is_file() {
        return Ok(());
    }
    Err(format!(
        "the Debian archive's keys (`{}`) are missing: install the package `{KEYRING_PACKAGE}` (apt-get install {KEYRING_PACKAGE})",
        keyring.display()
    ))
}

/// apt-get and apt-cache on the private state under the cache.
struct Apt {
    options: Vec<String>,
    download_dir: PathBuf,
    updated: bool,
}

impl Apt {
    /// Writes the private sources list and makes the folders apt expects.
    fn new(cache: &Path) -> Result<Self, String> {
        let apt = cache.join("apt");
        let sources = apt.join("sources.list");
        let parts = apt.join("sources.list.d");
        let lists = apt.join("lists");
        let apt_cache = apt.join("cache");
        for dir in [
            &parts,
            &lists.join("partial"),
            &apt_cache.join("archives/partial"),
        ] {
            create_dir(dir)?;
        }
        // `target=Packages`: no translations, contents or AppStream data,
        // whatever the host's apt.conf asks for.
        let source =
            format!("deb [arch=armhf target=Packages signed-by={KEYRING}] {MIRROR} {SUITE} main\n");
        fs::write(&sources, source)
            .map_err(|e| format!("cannot write `{}`: {e}", sources.display()))?;
        let path = |p: &Path| p.display().to_string();
        let options = [
            ("Dir::Etc::SourceList", path(&sources)),
            ("Dir::Etc::SourceParts", path(&parts)),
            ("APT::Architecture", "armhf".into()),
            ("APT::Architectures", "armhf".into()),
            ("Dir::State::Lists", path(&lists)),
            ("Dir::Cache", path(&apt_cache)),
            // The private folders need no lock, and the host's are not used.
            ("Debug::NoLocking", "1".into()),
        ]
        .into_iter()
        .map(|(key, value)| format!("-o{key}={value}"))
        .collect();
        Ok(Self {
            options,
            download_dir: apt.join("download"),
            updated: false,
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.args(&self.options).env("LC_ALL", "C");
        command
    }

    /// The versions of `package` the private lists know.
    fn versions(&self, package: &str) -> Result<Vec<String>, String> {
        // `madison` prints `package | version | source` lines: made to be read.
        let output = run(
            self.command("apt-cache").arg("madison").arg(package),
            "apt-cache",
        )?;
        let mut versions: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(
                |line| match line.split('|').map(str::trim).collect::<Vec<_>>()[..] {
                    [name, version, _] if name == package => Some(version.to_string()),
                    _ => None,
                },
            )
            .collect();
        // One line per version and index: the same version may come twice.
        versions.dedup();
        Ok(versions)
    }

    fn update(&mut self) -> Result<(), String> {
        check_keyring(Path::new(KEYRING))?;
        eprintln!("    Updating the package lists of {ARCHIVE}");
        run(self.command("apt-get").args(["-q", "update"]), "apt-get")
            .map_err(|e| format!("cannot read the package lists of {ARCHIVE}: {e}"))?;
        self.updated = true;
        Ok(())
    }

    /// Downloads `package=version` and moves its `.deb` into `debs`.
    fn download(&mut self, package: &str, version: &str, debs: &Path) -> Result<PathBuf, String> {
        if !self.versions(package)?.iter().any(|v| v == version) {
            self.update()?;
            let versions = self.versions(package)?;
            if !versions.iter().any(|v| v == version) {
                return Err(if versions.is_empty() {
                    format!(
                        "{ARCHIVE} has no package `{package}` (any more?); version `{version}` cannot be fetched"
                    )
                } else {
                    format!(
                        "`{package}` version `{version}` is not in {ARCHIVE} (any more?); the versions there: {}",
                        versions.join(", ")
                    )
                });
            }
        }
        eprintln!("    Fetching {package} {version} (armhf) from Debian");
        let deb = match self.try_download(package, version) {
            Ok(deb) => deb,
            // The lists may be stale (a file moved in the archive).
            Err(first) if !self.updated => {
                self.update()
                    .map_err(|e| format!("{first}\nand then: {e}"))?;
                self.try_download(package, version)?
            }
            Err(e) => return Err(e),
        };
        create_dir(debs)?;
        let name = deb.file_name().expect("a file found by name in a folder");
        let cached = debs.join(name);
        fs::rename(&deb, &cached).map_err(|e| {
            format!(
                "cannot move `{}` to `{}`: {e}",
                deb.display(),
                cached.display()
            )
        })?;
        Ok(cached)
    }

    /// `apt-get download` into an empty folder; the `.deb` it left there.
    fn try_download(&self, package: &str, version: &str) -> Result<PathBuf, String> {
        let dir = &self.download_dir;
        if dir.exists() {
            fs::remove_dir_all(dir)
                .map_err(|e| format!("cannot remove `{}`: {e}", dir.display()))?;
        }
        create_dir(dir)?;
        run(
            self.command("apt-get")
                .args(["-q", "download"])
                .arg(format!("{package}={version}"))
                .current_dir(dir),
            "apt-get",
        )?;
        cached_deb(dir, package, version)?.ok_or_else(|| {
            format!(
                "`apt-get download {package}={version}` succeeded but left no `.deb` in `{}`",
                dir.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_debian_are_refused() {
        assert!(check_name("busybox-static", "1:1.35.0-4+deb12u1+b1").is_ok());
        assert!(check_name("linux-image-6.1.0-50-armmp", "6.1.176-1").is_ok());
        assert_eq!(
            check_name("../etc", "1").unwrap_err(),
            "`../etc` is not a Debian package name"
        );
        assert_eq!(
            check_name("busybox", "1 -oAPT::X=y").unwrap_err(),
            "`1 -oAPT::X=y` is not a Debian version (package `busybox`)"
        );
        assert!(check_name("Busybox", "1").is_err());
        assert!(check_name("busybox", "").is_err());
    }

    /// The workspace whose cache the fetching tests share with the tool.
    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tools/ is inside the workspace")
            .to_path_buf()
    }

    /// Fetches both pins from Debian (on a clean clone; from the cache
    /// after that), checks what they hold, builds the initramfs, and checks
    /// that a second call runs no apt-get.
    #[test]
    fn the_pinned_packages_are_fetched_then_served_from_the_cache() {
        let root = workspace();
        let started = std::time::Instant::now();
        let kernel = kernel_zimage(&root).unwrap();
        let busybox = busybox_binary(&root).unwrap();
        let first = started.elapsed();

        // Debian's armmp zImages are 5 to 8 MB, and carry their size
        // table (what the layout places the kernel by).
        let z = mvm_config::linux::zimage(&fs::read(&kernel).unwrap()).unwrap();
        assert!((4 << 20..8 << 20).contains(&z.size), "{z:?}");
        assert!(z.footprint.is_some(), "{z:?}");
        assert!(kernel
            .parent()
            .unwrap()
            .join("../usr/lib/linux-image-6.1.0-50-armmp/vexpress-v2p-ca9.dtb")
            .is_file());
        // A 32-bit little-endian Arm ELF (e_machine 40).
        let program = fs::read(&busybox).unwrap();
        assert_eq!(&program[..6], b"\x7fELF\x01\x01");
        assert_eq!(u16::from_le_bytes([program[0x12], program[0x13]]), 40);
        let initramfs = crate::initramfs::busybox(&program, &[], &[]).unwrap();
        assert!(
            (program.len() / 4..program.len()).contains(&initramfs.len()),
            "a gzipped initramfs of {} bytes for a busybox of {}",
            initramfs.len(),
            program.len()
        );

        let started = std::time::Instant::now();
        for pin in [KERNEL, BUSYBOX] {
            let again = fetch(&root, pin.package, pin.version).unwrap();
            assert!(!again.downloaded, "{pin:?} was fetched twice");
        }
        let cached = started.elapsed();
        eprintln!(
            "first call {first:?}, cached {cached:?}; zImage {} bytes, busybox {} bytes, initramfs {} bytes",
            z.size,
            program.len(),
            initramfs.len()
        );
    }

    /// A version the archive does not have is named with those it has.
    #[test]
    fn a_version_not_in_the_archive_is_named_with_the_versions_there() {
        let root = workspace();
        let err = fetch(&root, BUSYBOX.package, "0.0-mvm-absent").unwrap_err();
        assert_eq!(
            err,
            format!(
                "`busybox-static` version `0.0-mvm-absent` is not in Debian bookworm main (armhf) (any more?); the versions there: {}",
                BUSYBOX.version
            )
        );
        let err = fetch(&root, "mvm-no-such-package", "1.0").unwrap_err();
        assert_eq!(
            err,
            "Debian bookworm main (armhf) has no package `mvm-no-such-package` (any more?); version `1.0` cannot be fetched"
        );
    }

    #[test]
    fn a_missing_program_or_keyring_is_named_with_the_way_out() {
        let err = run(&mut Command::new("mvm-no-such-apt-get"), "apt-get").unwrap_err();
        assert_eq!(
            err,
            "`apt-get` is not on this host: fetching Debian's packages needs a Debian or Ubuntu host (apt-get and dpkg-deb); elsewhere, give the guest's kernel as a file (`kernel = \"path/to/zImage\"`)"
        );
        assert_eq!(
            check_keyring(Path::new("/nonexistent/debian-archive-keyring.gpg")).unwrap_err(),
            "the Debian archive's keys (`/nonexistent/debian-archive-keyring.gpg`) are missing: install the package `debian-archive-keyring` (apt-get install debian-archive-keyring)"
        );
        let err = run(
            Command::new("sh").args(["-c", "echo oops >&2; exit 3"]),
            "sh",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "`sh -c echo oops >&2; exit 3` failed (exit status: 3):\noops"
        );
    }

    #[test]
    fn a_missing_file_of_a_package_is_named() {
        let package = Package {
            package: "p".into(),
            version: "1".into(),
            dir: PathBuf::from("/nonexistent/p_1"),
            downloaded: false,
        };
        assert_eq!(
            package.file("boot/vmlinuz").unwrap_err(),
            "Debian package `p` version `1` has no file `boot/vmlinuz` (looked in `/nonexistent/p_1`; remove that folder to extract the package again)"
        );
    }
}
