// The JSON value type and its json-c wrapper are their own module (QMPJSON), which knows nothing of QMP; every user
// of QMP sees them as part of it.
@_exported import QMPJSON
