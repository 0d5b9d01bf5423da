// The json-c API used by the QMP module's JSON wrapper (and nothing else).
#include <json-c/json.h>
#include <json-c/json_tokener.h>
