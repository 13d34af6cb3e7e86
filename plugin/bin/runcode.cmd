@echo off
rem runcode shim: runs the launcher built for this machine. The launcher finds,
rem verifies and caches the runcode CLI; nothing of that lives here.
setlocal
set "RC_ARCH="
if /i "%PROCESSOR_ARCHITECTURE%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITEW6432%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITECTURE%"=="ARM64" set "RC_ARCH=arm64"
set "RC_LAUNCHER=%~dp0launcher\runcode-launcher-windows-%RC_ARCH%.exe"
rem Windows on ARM runs x64 programs: the amd64 launcher serves when the
rem bundle has no arm64 one.
if "%RC_ARCH%"=="arm64" if not exist "%RC_LAUNCHER%" set "RC_LAUNCHER=%~dp0launcher\runcode-launcher-windows-amd64.exe"
if not defined RC_ARCH goto missing
if not exist "%RC_LAUNCHER%" goto missing
"%RC_LAUNCHER%" %*
exit /b %ERRORLEVEL%
:missing
rem No launcher fits this machine: a binary of the user's own, else a refusal.
if defined RUNCODE_BIN if exist "%RUNCODE_BIN%" goto own
set "RC_WHY=no launcher for %PROCESSOR_ARCHITECTURE% in this plugin; set RUNCODE_BIN to a runcode binary"
if defined RUNCODE_BIN set "RC_WHY=RUNCODE_BIN=%RUNCODE_BIN% is not a file"
rem Under --json (before any --), the refusal is also the launcher's JSON.
set "RC_JSON="
:scan
if "%~1"=="--" goto scanned
if "%~1"=="--json" set "RC_JSON=1"
if "%~1"=="--json" goto scanned
if "%1"=="" goto scanned
shift
goto scan
:scanned
set "RC_WHY=%RC_WHY:"=%"
set "RC_WHY=%RC_WHY:\=\\%"
setlocal EnableDelayedExpansion
echo runcode: !RC_WHY! 1>&2
if defined RC_JSON echo {"error":"launcher_failed","message":"!RC_WHY!"}
exit /b 1
:own
rem (Not inside a parenthesised block: there %ERRORLEVEL% would be read
rem before the program ran.)
"%RUNCODE_BIN%" %*
exit /b %ERRORLEVEL%
