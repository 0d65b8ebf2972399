#!/bin/bash
# Makes the prefix that scripts/dev/gpu_train_check.sh builds edgessd-train with on a machine
# that has PyTorch but none of Debian's -dev packages (the lent GPU machines): OpenCV 4.6
# core/imgproc/imgcodecs as static libraries (from Debian's source package, libjpeg, libpng
# and zlib linked in), CLI11, nlohmann-json, tinyxml2 and zlib. Run on Debian 12 with
# scripts/setup.sh's packages installed. Usage: make_trainer_prefix.sh PREFIX
set -euo pipefail
prefix=$(realpath -m "${1:?prefix folder}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
curl -sSfO http://deb.debian.org/debian/pool/main/o/opencv/opencv_4.6.0+dfsg.orig.tar.xz
tar xJf opencv_4.6.0+dfsg.orig.tar.xz
lib=/usr/lib/x86_64-linux-gnu
off=()
for w in IPP ITT OPENCL LAPACK EIGEN TBB OPENMP TIFF WEBP OPENJPEG JASPER OPENEXR GDAL GDCM PROTOBUF QUIRC ADE VA GTK QT \
  FFMPEG GSTREAMER V4L 1394 OPENGL VTK CUDA IMGCODEC_HDR IMGCODEC_SUNRASTER IMGCODEC_PXM IMGCODEC_PFM; do
  off+=(-DWITH_$w=OFF)
done
cmake -G Ninja -S opencv-4.6.0 -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DBUILD_SHARED_LIBS=OFF -DBUILD_LIST=core,imgproc,imgcodecs "${off[@]}" -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF \
  -DBUILD_opencv_apps=OFF -DCPU_DISPATCH= -DCPU_BASELINE=AVX2 -DBUILD_ZLIB=OFF -DBUILD_JPEG=OFF -DBUILD_PNG=OFF \
  -DJPEG_LIBRARY=$lib/libjpeg.a -DPNG_LIBRARY=$lib/libpng16.a -DZLIB_LIBRARY=$lib/libz.a > cmake.log
ninja -C build install > build.log
rm -rf "$prefix/share/opencv4" "$prefix/bin"
mkdir -p "$prefix/lib/x86_64-linux-gnu/cmake" "$prefix/share/cmake"
cp $lib/libjpeg.a $lib/libpng16.a $lib/libz.a "$prefix/lib/"
# OpenCV's exported targets name those three by absolute path: make them prefix-relative.
sed -i 's#/usr/lib/x86_64-linux-gnu/lib\(z\|jpeg\|png16\)\.a#${_IMPORT_PREFIX}/lib/lib\1.a#g' \
  "$prefix/lib/cmake/opencv4/OpenCVModules.cmake"
cp -r /usr/include/CLI /usr/include/nlohmann "$prefix/include/"
cp /usr/include/tinyxml2.h /usr/include/zlib.h /usr/include/zconf.h "$prefix/include/"
cp -r /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json "$prefix/share/cmake/"
cp -r $lib/cmake/tinyxml2 "$prefix/lib/x86_64-linux-gnu/cmake/"
cp $lib/libtinyxml2.so.9.0.0 "$prefix/lib/x86_64-linux-gnu/"
cp $lib/libtinyxml2.so.9.0.0 "$prefix/lib/x86_64-linux-gnu/libtinyxml2.so.9"
echo "prefix ready: $prefix ($(du -sh "$prefix" | cut -f1))"
