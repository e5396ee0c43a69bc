import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command that could not be started.
public struct ShellError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs a shell script with /bin/sh -c in its own process group, standard input from /dev/null,
/// capturing standard output and standard error (separately, and together in arrival order), and
/// stopping the whole group (SIGTERM, then SIGKILL 3 s later) at the timeout.
public enum ShellCommand {
    public struct Result: Sendable {
        public let output: CellOutput
        public let timedOut: Bool
        /// Wall-clock seconds.
        public let duration: Double
    }

    /// The exit status reported when the timeout stopped the command.
    public static let timeoutStatus = -1

    /// Runs `script` in `directory`. With `stopOnInterrupt`, SIGINT, SIGTERM or SIGHUP received
    /// meanwhile stop the command's process group too (it does not see the terminal's Ctrl-C, being
    /// in its own group) and then end this process with status 128 + signal: set it in a command-line
    /// tool, not in a library or test run.
    public static func run(
        _ script: String, in directory: String, environment: [String: String], timeout: Double,
        stopOnInterrupt: Bool = false
    ) throws -> Result {
        // The script runs in `directory`: cd first, so a missing folder is a clear error in the output.
        let quotedDir = "'" + directory.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let full = "cd \(quotedDir) || exit 97\n" + script
        return try spawn("/bin/sh", arguments: ["-c", full], environment: environment, timeout: timeout, stopOnInterrupt: stopOnInterrupt)
    }

    /// Runs the program at `path` with `arguments` (passed as they are, no shell in between), in
    /// this process's folder, with the same capture, process group and timeout as `run`.
    public static func spawn(
        _ path: String, arguments: [String], environment: [String: String], timeout: Double,
        stopOnInterrupt: Bool = false
    ) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw ShellError(message: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw ShellError(message: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }

        #if canImport(Glibc)
            var actions = posix_spawn_file_actions_t()
            var attr = posix_spawnattr_t()
        #else
            var actions: posix_spawn_file_actions_t? = nil
            var attr: posix_spawnattr_t? = nil
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        // Own process group (so a timeout stops the children too), default signal handling.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let args: [String] = [path] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw ShellError(message: "cannot start \(path): \(String(cString: strerror(rc)))")
        }

        var interruptSources: [DispatchSourceSignal] = []
        if stopOnInterrupt {
            let child = pid
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig, SIG_IGN)
                let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                src.setEventHandler {
                    // Exit at once: waiting here would let the main thread start the next cell.
                    kill(-child, SIGTERM)
                    FileHandle.standardError.write(Data("\ninterrupted (signal \(sig)): stopped the running cell\n".utf8))
                    _exit(128 + sig)
                }
                src.resume()
                interruptSources.append(src)
            }
        }
        defer {
            for src in interruptSources { src.cancel() }
            if stopOnInterrupt { for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, SIG_DFL) } }
        }

        var out = [UInt8](), err = [UInt8](), both = [UInt8]()
        var open = [true, true]
        let fds = [outPipe[0], errPipe[0]]
        var status: Int32 = 0
        var exited = false
        var exitedAt = 0.0
        var timedOut = false
        var killedAt = 0.0
        var buffer = [UInt8](repeating: 0, count: 65536)

        while open[0] || open[1] {
            var polls = fds.enumerated().filter { open[$0.offset] }.map { pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0) }
            let n = poll(&polls, nfds_t(polls.count), 100)
            if n > 0 {
                for p in polls where p.revents != 0 {
                    let k = p.fd == fds[0] ? 0 : 1
                    let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                    if got > 0 {
                        let chunk = buffer[0..<got]
                        if k == 0 { out.append(contentsOf: chunk) } else { err.append(contentsOf: chunk) }
                        both.append(contentsOf: chunk)
                    } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                        open[k] = false
                    }
                }
            }
            if !exited && waitpid(pid, &status, WNOHANG) == pid { exited = true; exitedAt = elapsed() }
            // The shell has exited but something it started still holds the pipes: stop waiting after 2 s.
            if exited && elapsed() - exitedAt > 2 {
                kill(-pid, SIGKILL)
                break
            }
            if !exited && !timedOut && elapsed() > timeout {
                timedOut = true
                killedAt = elapsed()
                kill(-pid, SIGTERM)
            }
            if timedOut && !exited && elapsed() - killedAt > 3 { kill(-pid, SIGKILL) }
        }
        close(fds[0]); close(fds[1])
        if !exited {
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        let code: Int
        if timedOut {
            code = timeoutStatus
        } else if status & 0x7f == 0 {
            code = Int((status >> 8) & 0xff)
        } else {
            code = 128 + Int(status & 0x7f)
        }
        let text = { (b: [UInt8]) in String(decoding: b, as: UTF8.self) }
        return Result(
            output: CellOutput(exitCode: code, output: text(both), stdout: text(out), stderr: text(err)),
            timedOut: timedOut, duration: elapsed())
    }
}
