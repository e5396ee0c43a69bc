import Foundation

/// A lock file per in-flight sweep cell, so that two processes (shards, or the same command started
/// twice) on one folder never train the same cell. The file is created with O_CREAT | O_EXCL (atomic
/// on a local file system and on NFS v3+) and holds the owner's host name and process id. A lock whose
/// owner is a process of this host that no longer exists (a crash, a killed job) is stale and is taken
/// over; a lock held by another host is respected.
public struct CellLock: Sendable {
    public let path: String

    /// Who holds a lock.
    public struct Owner: Codable, Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var pid: Int32
        public var description: String { "process \(pid) on \(host)" }
    }

    static var thisHost: String { ProcessInfo.processInfo.hostName }

    /// Tries to take the lock at `path`: the lock, or the live owner that holds it.
    public static func acquire(_ path: String) throws -> Result<CellLock, LockHeld> {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let me = Owner(host: thisHost, pid: getpid())
        for _ in 0..<3 {
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd >= 0 {
                let text = "\(me.host)\n\(me.pid)\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return .success(CellLock(path: path))
            }
            guard errno == EEXIST else {
                throw ExperimentError(field: path, rule: "cannot create the cell's lock file: \(String(cString: strerror(errno)))")
            }
            guard let owner = readOwner(path) else { continue }  // being written right now, or vanished: retry
            if owner.host == thisHost && kill(owner.pid, 0) != 0 && errno == ESRCH {
                unlink(path)  // stale: its process is gone
                continue
            }
            return .failure(LockHeld(owner: owner))
        }
        return .failure(LockHeld(owner: readOwner(path) ?? Owner(host: "?", pid: 0)))
    }

    static func readOwner(_ path: String) -> Owner? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, let pid = Int32(lines[1]) else { return nil }
        return Owner(host: String(lines[0]), pid: pid)
    }

    /// Removes the lock file.
    public func release() { unlink(path) }

    /// The lock is held by a live process.
    public struct LockHeld: Error, Sendable {
        public let owner: Owner
    }
}

/// An exclusive advisory lock (flock) on a file for the duration of `body`: serialises the writes of
/// a sweep's tables, so that the last table written holds every cell finished before it.
func withFileLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent,
        withIntermediateDirectories: true)
    let fd = open(path, O_CREAT | O_RDWR, 0o644)
    guard fd >= 0 else { throw ExperimentError(field: path, rule: "cannot open the lock file: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else {
        throw ExperimentError(field: path, rule: "cannot lock: \(String(cString: strerror(errno)))")
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
}
