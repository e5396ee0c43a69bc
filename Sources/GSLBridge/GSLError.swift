import CGSLBridge

/// A GSL status other than `GSL_SUCCESS`, turned into a Swift error.
///
/// GSL's default handler aborts the process; ``GSL/initialise()`` (called by every wrapper in
/// this module) replaces it with a silent one that only records the reason, so every failure
/// reaches Swift as a `GSLError` with GSL's own message.
public struct GSLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// GSL's status code (`GSL_EDOM`, `GSL_ENOMEM`, ...).
    public let status: Int32
    /// What was being done when the error happened.
    public let context: String
    /// GSL's text for the status code.
    public let message: String
    /// GSL's reason and source location, when GSL reported one.
    public let reason: String

    public init(status: Int32, context: String) {
        self.status = status
        self.context = context
        self.message = String(cString: gsl_strerror(status))
        self.reason = String(cString: fc_gsl_last_reason())
    }

    public var description: String {
        reason.isEmpty
            ? "GSL error in \(context): \(message) (status \(status))"
            : "GSL error in \(context): \(message): \(reason)"
    }
}

/// Entry points shared by the whole bridge.
public enum GSL {
    private static let installed: Bool = {
        fc_gsl_errors_off()
        return true
    }()

    /// Turns GSL's abort-on-error handler off (idempotent, thread-safe).
    @inline(__always)
    public static func initialise() {
        _ = installed
    }

    /// True when GSL's aborting handler is off.
    public static var errorHandlerIsOff: Bool {
        initialise()
        return fc_gsl_errors_are_off() != 0
    }

    /// Throws a ``GSLError`` for any status other than success.
    @inline(__always)
    public static func check(_ status: Int32, _ context: @autoclosure () -> String) throws(GSLError) {
        if status != Int32(GSL_SUCCESS) { throw GSLError(status: status, context: context()) }
    }

    /// The GSL version this binary runs against.
    public static var version: String { String(cString: fc_gsl_version()) }
}
