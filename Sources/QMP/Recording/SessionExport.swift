extension ReplaySession {
    /// The session in our JSON Lines format (header with greeting, then each command, its reply and the
    /// events after it, `t` = 0), e.g. to convert a libvirt `.replies` session.
    public func jsonLines() -> [UInt8] {
        var header = self.header
        header.greeting = greeting
        var out = JSON.object(header.json).serializedBytes()
        out.append(0x0A)
        func line(_ direction: String, _ message: JSON) {
            out += Array("{\"dir\":\"\(direction)\",\"t\":0,\"msg\":".utf8)
            message.write(into: &out)
            out += Array("}\n".utf8)
        }
        initialEvents.forEach { line("in", $0) }
        for exchange in exchanges {
            line("out", exchange.command)
            if let reply = exchange.reply { line("in", reply) }
            exchange.eventsAfter.forEach { line("in", $0) }
        }
        return out
    }
}
