import ResilientPostgresSimulation
import Testing

@Suite struct SimulationTests {
    @Test func placeholder() async {
        let failure = await Simulation.check(seed: 1)
        _ = failure
    }
}
