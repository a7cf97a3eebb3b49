#pragma once

// Everything about the gateway configuration, for callers that want it all.
#include "config/apikeyhash.h"
#include "config/configcheck.h"
#include "config/configdiff.h"
#include "config/configerror.h"
#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configvalidator.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"
#include "config/jsontext.h"
#include "config/mergepatch.h"
