import Prober
import QMP
import Testing

/// `-cpu`-style model arguments for `qemu-compare` and `qemu-baseline`.
struct CPUModelInfoTests {
    @Test("NAME,PROP=VALUE: booleans, numbers, strings, +PROP, -PROP and a bare PROP, in order")
    func parses() throws {
        let info = try CPUModelInfo(parsing: "z14,vx=off,gs=on,+te,-cte,msa9,level=5,model-id=My CPU")
        #expect(info.name == "z14")
        #expect(info.props.map(\.key) == ["vx", "gs", "te", "cte", "msa9", "level", "model-id"])
        #expect(info.props["vx"] == false && info.props["gs"] == true && info.props["te"] == true)
        #expect(info.props["cte"] == false && info.props["msa9"] == true)
        #expect(info.props["level"] == 5 && info.props["model-id"] == "My CPU")
        #expect(info.json.serialized() == #"{"name":"z14","props":{"vx":false,"gs":true,"te":true,"cte":false,"msa9":true,"level":5,"model-id":"My CPU"}}"#)
        #expect(info.description == "z14,vx=off,gs=on,te=on,cte=off,msa9=on,level=5,model-id=My CPU")
        #expect(try CPUModelInfo(parsing: "max").json.serialized() == #"{"name":"max"}"#)
    }

    @Test("bad model arguments are typed errors naming the problem", arguments: [
        (",vx=off", "the name is missing"), ("", "the name is missing"), ("z14,", "an empty property"),
        ("z14,=on", "an empty property"), ("z14,vx=on,vx=off", "'vx' is given twice"), ("z14,+", "an empty property"),
    ])
    func rejects(_ text: String, _ reason: String) throws {
        let error = #expect(throws: ProberError.self) { try CPUModelInfo(parsing: text) }
        guard case .invalidInput(let message)? = error else {
            Issue.record("expected invalidInput, got \(String(describing: error))")
            return
        }
        #expect(message.contains(reason), "\(message)")
    }

    @Test("a CpuModelInfo reply reads back; one without a name does not")
    func readsJSON() throws {
        let json = try JSON.parse(#"{"name": "z13-base", "props": {"vx": true}}"#)
        #expect(CPUModelInfo(json: json) == CPUModelInfo(name: "z13-base", props: ["vx": true]))
        #expect(CPUModelInfo(json: try JSON.parse(#"{"props": {}}"#)) == nil)
    }
}
