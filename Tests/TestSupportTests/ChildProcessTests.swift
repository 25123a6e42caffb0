import Testing
import TestSupport

@Suite("Child processes")
struct ChildProcessTests {
    @Test func commandThatSucceedsReturnsWhatItPrinted() async throws {
        let output = try ChildProcess.runOnThisThread(["sh", "-c", "echo out; echo err >&2"])
        #expect(output == "out\nerr\n")
        try await ChildProcess.run(["true"])
    }

    @Test func commandThatExitsNonZeroFailsWithItsStatusAndOutput() async throws {
        let error = await #expect(throws: ChildProcess.Failure.self) {
            try await ChildProcess.run(["sh", "-c", "echo why; exit 3"])
        }
        #expect(error?.reason == .exited(status: 3))
        #expect(error?.output == "why\n")
    }

    @Test func commandKilledByASignalFailsNamingTheSignal() async throws {
        let error = await #expect(throws: ChildProcess.Failure.self) {
            try await ChildProcess.run(["sh", "-c", "kill -KILL $$"])
        }
        #expect(error?.reason == .killed(signal: 9))
        #expect(error?.description.contains("killed by signal 9") == true)
    }

    @Test func commandThatCannotBeFoundIsNotRun() {
        #expect(throws: ChildProcess.Failure.self) {
            try ChildProcess.runOnThisThread(["no-such-command-\(UInt32.random(in: 0...UInt32.max))"])
        }
    }
}
