# Fails unless LIBRARY has fail points exactly when the tree was configured
# with AMC_FAILPOINTS (EXPECTED is ON or OFF). With them compiled out,
# failpoint() is empty and the library never reads the variable, so the
# name "AMC_FAILPOINTS" must not be anywhere in the binary.
file(STRINGS "${LIBRARY}" mentions REGEX "AMC_FAILPOINTS")
if(mentions)
  set(found ON)
else()
  set(found OFF)
endif()
if(EXPECTED AND NOT found)
  message(FATAL_ERROR "${LIBRARY} was configured with AMC_FAILPOINTS=ON but never reads the variable")
elseif(NOT EXPECTED AND found)
  message(FATAL_ERROR "${LIBRARY} was configured with AMC_FAILPOINTS=OFF but still reads the variable: "
                      "fail points would be live in a shipped library")
endif()
message(STATUS "${LIBRARY}: fail points ${found}, as configured")
