import Testing
@testable import Prober
