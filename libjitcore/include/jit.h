/* libjitcore: the single home of jit's rules. */
#ifndef JIT_H
#define JIT_H

#include "jit/broker.h"
#include "jit/chain.h"
#include "jit/config.h"
#include "jit/decision.h"
#include "jit/error.h"
#include "jit/event.h"
#include "jit/issue.h"
#include "jit/grant.h"
#include "jit/keys.h"
#include "jit/request.h"
#include "jit/session.h"
#include "jit/store.h"
#include "jit/timeutil.h"
#include "jit/util.h"

#endif
