extension PoolStateMachine {
    /// The pool's sessions, each in the place its ``SessionID`` names, a closed session's place taken by the next
    /// one opened: found by index, without hashing, on every lease and return.
    package struct Sessions {
        private var places: [Session?] = []
        private var free: [Int] = []
        /// How many sessions the pool has, whatever their state.
        package private(set) var count = 0

        /// Whether any session is in `state`.
        package func contains(_ state: Session.State) -> Bool {
            places.contains { $0?.state == state }
        }

        /// The session `id` names, or nil if it is not one of the pool's (any more).
        package subscript(id: SessionID) -> Session? {
            guard id.index < places.count, let session = places[id.index], session.id == id else { return nil }
            return session
        }

        /// Adds a session and returns its id; `value` tells it from the sessions that had its place before.
        mutating func add(_ connection: Connection, value: Int, epoch: Int, endOfLife: Instant) -> SessionID {
            let index = free.popLast() ?? places.count
            let id = SessionID(index: index, value: value)
            let session = Session(id: id, connection: connection, epoch: epoch, endOfLife: endOfLife, state: .leased)
            if index == places.count { places.append(session) } else { places[index] = session }
            count += 1
            return id
        }

        mutating func set(_ state: Session.State, of id: SessionID) {
            precondition(self[id] != nil, "a session of the pool")
            places[id.index]!.state = state
        }

        mutating func remove(_ id: SessionID) {
            precondition(self[id] != nil, "a session of the pool")
            places[id.index] = nil
            free.append(id.index)
            count -= 1
        }
    }
}
