/* placeholder: written in a following change */
#include "jit/error.h"
