# `cmake --install build --prefix P`: the programs, the libraries with their public headers,
# an exported CMake package (find_package(edgessd): edgessd::core, edgessd::runtime,
# edgessd::deploy, edgessd::download, edgessd::edgessd), a pkg-config file, man pages, bash completion and
# the face-api base model the demo starts from. `cpack -G DEB` packs the programs'
# component as a .deb whose dependencies dpkg-shlibdeps reads off the programs.
include(CMakePackageConfigHelpers)

# A deploy-only build (EDGESSD_DEPLOY_ONLY) has edgessd-detect, edgessd-bench, core, runtime and deploy only.
set(EDGESSD_PROGRAM_TARGETS edgessd_detect edgessd_bench)
set(EDGESSD_LIBRARY_TARGETS edgessd_core edgessd_runtime edgessd_deploy)
set(EDGESSD_WITH_DOWNLOAD OFF)
set(EDGESSD_WITH_FREETYPE OFF)  # edgessd::core draws plates with FreeType where it was found
set(EDGESSD_PC_FREETYPE "")
if(FREETYPE_FOUND)
  set(EDGESSD_WITH_FREETYPE ON)
  set(EDGESSD_PC_FREETYPE " freetype2")
endif()
if(TARGET edgessd_cli)
  list(PREPEND EDGESSD_PROGRAM_TARGETS edgessd_cli)
  list(APPEND EDGESSD_LIBRARY_TARGETS edgessd_download edgessd)
  set(EDGESSD_WITH_DOWNLOAD ON)
  set_target_properties(edgessd_download PROPERTIES EXPORT_NAME download)
  set_target_properties(edgessd PROPERTIES EXPORT_NAME edgessd)
endif()
set_target_properties(edgessd_core PROPERTIES EXPORT_NAME core)
set_target_properties(edgessd_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(edgessd_deploy PROPERTIES EXPORT_NAME deploy)

install(TARGETS ${EDGESSD_PROGRAM_TARGETS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT programs)
install(TARGETS ${EDGESSD_LIBRARY_TARGETS} EXPORT edgessdTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
# A deploy-only build installs the headers of the libraries it has.
set(EDGESSD_ABSENT_HEADERS)
if(NOT TARGET edgessd_cli)
  foreach(folder model train export demo download)
    list(APPEND EDGESSD_ABSENT_HEADERS PATTERN ${folder} EXCLUDE)
  endforeach()
endif()
install(DIRECTORY src/edgessd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
        FILES_MATCHING PATTERN "*.h" PATTERN "torch_pch.h" EXCLUDE
        PATTERN "internal" EXCLUDE ${EDGESSD_ABSENT_HEADERS})  # a folder's internal/ headers are its own
install(FILES ${CMAKE_BINARY_DIR}/generated/edgessd/common/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgessd/common COMPONENT development)

set(EDGESSD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgessd)
install(EXPORT edgessdTargets NAMESPACE edgessd:: DESTINATION ${EDGESSD_CMAKE_DIR} COMPONENT development)
configure_package_config_file(cmake/edgessdConfig.cmake.in ${CMAKE_BINARY_DIR}/edgessdConfig.cmake
                              INSTALL_DESTINATION ${EDGESSD_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/edgessdConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/edgessdConfig.cmake ${CMAKE_BINARY_DIR}/edgessdConfigVersion.cmake
        DESTINATION ${EDGESSD_CMAKE_DIR} COMPONENT development)
file(RELATIVE_PATH EDGESSD_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/edgessd.pc.in ${CMAKE_BINARY_DIR}/edgessd.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/edgessd.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

# The face-api SSD-MobileNet-v1 weights (MIT) and demo photos, so an installed `edgessd demo`
# and `edgessd convert --from face-api` work offline (common/files: face_api_dir()).
if(TARGET edgessd_cli AND EXISTS ${EDGESSD_FACE_API_DIR}/model/ssd_mobilenetv1_model.bin)
  install(FILES ${EDGESSD_FACE_API_DIR}/model/ssd_mobilenetv1_model.bin
                ${EDGESSD_FACE_API_DIR}/model/ssd_mobilenetv1_model-weights_manifest.json
                ${EDGESSD_FACE_API_DIR}/LICENSE
          DESTINATION ${CMAKE_INSTALL_DATADIR}/edgessd/face-api/model COMPONENT programs)
  install(DIRECTORY ${EDGESSD_FACE_API_DIR}/demo/ DESTINATION ${CMAKE_INSTALL_DATADIR}/edgessd/face-api/demo
          COMPONENT programs FILES_MATCHING PATTERN "*.jpg")
endif()
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT programs)

# Man pages from each program's --help (help2man), and bash completion of subcommands.
# A cross build runs the program for help2man through its emulator (a wrapper script).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  foreach(target ${EDGESSD_PROGRAM_TARGETS})
    get_target_property(program ${target} OUTPUT_NAME)
    set(run $<TARGET_FILE:${target}>)
    if(CMAKE_CROSSCOMPILING_EMULATOR)
      list(JOIN CMAKE_CROSSCOMPILING_EMULATOR "' '" emulator)
      set(run ${CMAKE_BINARY_DIR}/man/run-${program})
      file(GENERATE OUTPUT ${run} CONTENT "#!/bin/sh\nexec '${emulator}' '$<TARGET_FILE:${target}>' \"$@\"\n"
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    endif()
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${program}.1
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --name "${PROJECT_DESCRIPTION}"
              --output ${CMAKE_BINARY_DIR}/man/${program}.1 ${run}
      DEPENDS ${target} VERBATIM)
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${program}.1.gz
      COMMAND gzip -9nf -k ${CMAKE_BINARY_DIR}/man/${program}.1
      DEPENDS ${CMAKE_BINARY_DIR}/man/${program}.1 VERBATIM)
    list(APPEND EDGESSD_MAN_PAGES ${CMAKE_BINARY_DIR}/man/${program}.1.gz)
  endforeach()
  add_custom_target(man_pages ALL DEPENDS ${EDGESSD_MAN_PAGES})
  install(FILES ${EDGESSD_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT programs)
else()
  message(WARNING "help2man not found: no man pages (Debian: apt-get install help2man)")
endif()
if(TARGET edgessd_cli)
  install(FILES scripts/edgessd.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME edgessd COMPONENT programs)
endif()
install(FILES scripts/edgessd.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME edgessd-detect COMPONENT programs)

set(CPACK_PACKAGE_NAME edgessd)
set(CPACK_PACKAGE_VENDOR "edgessd developers")
set(CPACK_PACKAGE_CONTACT "edgessd developers <edgessd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_COMPONENTS_ALL programs)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME edgessd)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps reads the host's dpkg database, which has no arm64 libraries:
  # scripts/arm64.sh gives Depends with `cpack -D CPACK_DEBIAN_PACKAGE_DEPENDS=...`.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  endif()
endif()
# rtp:// output and input need these GStreamer plugins at run time (stream_pipelines.h);
# train-reader draws its synthetic plates in these fonts' faces (plates/plate_faces.h).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, fonts-liberation, fonts-urw-base35, fonts-roboto-unhinted, fonts-dejavu-core, fonts-dejavu-extra, fonts-b612")
include(CPack)
