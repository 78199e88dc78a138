#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-3-Clause
#
# ivm autogen: prepare the build system, in one of two modes.
#
#   ./autogen.pl
#       Standalone build (default): discover the component directories
#       (*/mca/*/ivm with a configure.m4), write config/ivm_components.m4
#       and run autoreconf.  Then: ./configure && make && make install.
#
#   ./autogen.pl --ompi-tree DIR [-- OMPI-AUTOGEN-ARGS...]
#       In-tree build: copy every */mca/*/ivm component directory into
#       the Open MPI 4.1.x or 5.0.x source tree DIR and run DIR's own autogen.pl
#       (with --force, which Open MPI needs in a release/Debian tree),
#       passing it any arguments given after "--".
#
#   ./autogen.pl --ompi-tree fetch[=DIR] [-- ...]
#       Same, after fetching the Debian Open MPI source into DIR
#       (default /tmp/ivm-ompi-src) with contrib/ivm-ompi-source; an
#       already fetched tree in DIR is reused.
#
# See doc/build.md.

use strict;
use warnings;
use Cwd qw(abs_path getcwd);
use File::Basename qw(dirname basename);
use File::Compare qw(compare);
use File::Copy qw(copy);
use File::Find qw(find);
use File::Path qw(make_path rmtree);
use Getopt::Long qw(:config no_ignore_case bundling);

$| = 1;    # keep stdout and stderr in order

my $orig_cwd = getcwd();
my $topdir = abs_path(dirname($0));
chdir($topdir) or die "cannot chdir to $topdir: $!\n";

my $default_fetch_dir = "/tmp/ivm-ompi-src";

my ($help, $quiet, $ompi_tree, $overlay_only, $no_autoreconf) = (0, 0, undef, 0, 0);
GetOptions("help|h"         => \$help,
           "quiet|q"        => \$quiet,
           "ompi-tree=s"    => \$ompi_tree,
           "overlay-only"   => \$overlay_only,
           "no-autoreconf"  => \$no_autoreconf)
    or usage(1);
usage(0) if $help;
my @ompi_autogen_args = @ARGV;    # whatever followed "--"
if (@ompi_autogen_args && !defined $ompi_tree) {
    die "autogen.pl: unexpected arguments: @ompi_autogen_args (use -- only with --ompi-tree)\n";
}

sub usage {
    my ($rc) = @_;
    print <<"EOF";
Usage: ./autogen.pl [options] [-- open-mpi-autogen-args...]

Standalone build (default):
  ./autogen.pl                 discover components, generate config/ivm_components.m4,
                               run autoreconf; then ./configure && make && make install

In-tree build (inside an Open MPI 4.1.x or 5.0.x source tree):
  --ompi-tree DIR              copy every */mca/*/ivm component directory into DIR
                               and run DIR/autogen.pl --force [args after --]
  --ompi-tree fetch[=DIR]      first fetch Debian's Open MPI source into DIR
                               (default $default_fetch_dir) with contrib/ivm-ompi-source;
                               an existing tree there is reused
  --overlay-only               with --ompi-tree: only copy the components, do not
                               run Open MPI's autogen.pl

Other options:
  --no-autoreconf              standalone: only write config/ivm_components.m4
  -q, --quiet                  less output
  -h, --help                   this help

Example (in-tree, faster Open MPI autogen):
  ./autogen.pl --ompi-tree /tmp/ompi -- --no-oshmem --include=io-ompio
EOF
    exit $rc;
}

sub say { print @_, "\n" unless $quiet; }

# ---------------------------------------------------------------------
# Component discovery: */mca/*/ivm with configure.m4 (or at least a
# Makefile.am), ordered so that dependencies come first: projects in
# Open MPI's order (opal, orte, ompi, oshmem, others), and inside a
# project the "common" framework before all others.
# ---------------------------------------------------------------------
my %project_rank = (opal => 0, orte => 1, ompi => 2, oshmem => 3);

sub discover_components {
    my @found;
    for my $dir (glob("*/mca/*/ivm")) {
        next unless -d $dir;
        my ($project, undef, $framework, $component) = split(m{/}, $dir);
        my $has_m4 = -f "$dir/configure.m4";
        my $has_am = -f "$dir/Makefile.am";
        if (!$has_m4 && !$has_am) {
            warn "autogen.pl: ignoring $dir (no configure.m4, no Makefile.am)\n";
            next;
        }
        if (-f "$dir/.opal_ignore") {
            say "  $dir: .opal_ignore present, skipped";
            next;
        }
        push(@found, { dir => $dir, project => $project, framework => $framework,
                       component => $component, has_m4 => $has_m4 });
    }
    return sort {
        ($project_rank{$a->{project}} // 9) <=> ($project_rank{$b->{project}} // 9)
            || $a->{project} cmp $b->{project}
            || ($a->{framework} eq "common" ? 0 : 1) <=> ($b->{framework} eq "common" ? 0 : 1)
            || $a->{framework} cmp $b->{framework}
    } @found;
}

my @components = discover_components();
die "autogen.pl: no component directories (*/mca/*/ivm) found under $topdir\n"
    unless @components;

say "ivm components found (in configure order):";
say "  $_->{dir}" . ($_->{has_m4} ? "" : " (no configure.m4)") for @components;

if (defined $ompi_tree) {
    in_tree_mode();
} else {
    standalone_mode();
}
exit 0;

# ---------------------------------------------------------------------
# Standalone
# ---------------------------------------------------------------------
sub standalone_mode {
    my $out = "config/ivm_components.m4";
    my $m4 = "dnl Generated by autogen.pl -- do not edit; re-run ./autogen.pl\n"
           . "dnl after adding or removing a */mca/*/ivm component directory.\n\n";
    for my $c (@components) {
        $m4 .= "m4_include([$c->{dir}/configure.m4])\n" if $c->{has_m4};
    }
    $m4 .= "\n# Configure the components in dependency order (common first).\n";
    $m4 .= "AC_DEFUN([IVM_CONFIG_ALL_COMPONENTS], [\n";
    for my $c (@components) {
        my $macro = $c->{has_m4} ? "IVM_CONFIG_COMPONENT" : "IVM_CONFIG_COMPONENT_NO_M4";
        $m4 .= "    $macro([$c->{project}], [$c->{framework}], [$c->{component}])\n";
    }
    $m4 .= "])\n";
    write_if_changed($out, $m4);
    say "wrote $out";

    # The standalone build also needs test/unit/Makefile.am (owned by
    # the unit tests); fail early with a clear message if it is missing.
    die "autogen.pl: test/unit/Makefile.am is missing\n" unless -f "test/unit/Makefile.am";

    return if $no_autoreconf;
    make_path("config/m4", "config/build-aux");
    my @cmd = ("autoreconf", "--install", "--force", "--warnings=all,no-portability");
    push(@cmd, "--verbose") unless $quiet;
    say "running: @cmd";
    system(@cmd) == 0 or die "autogen.pl: autoreconf failed\n";
    say "\nNow run: ./configure [--with-ompi=DIR] [--prefix=P] && make && make install";
}

sub write_if_changed {
    my ($file, $content) = @_;
    if (open(my $in, "<", $file)) {
        local $/;
        my $old = <$in>;
        close($in);
        return if defined $old && $old eq $content;
    }
    open(my $fh, ">", "$file.tmp") or die "cannot write $file.tmp: $!\n";
    print $fh $content;
    close($fh) or die "cannot write $file.tmp: $!\n";
    rename("$file.tmp", $file) or die "cannot rename $file.tmp: $!\n";
}

# ---------------------------------------------------------------------
# In-tree
# ---------------------------------------------------------------------
sub in_tree_mode {
    my $dir = $ompi_tree;
    if ($dir =~ /^fetch(?:=(.*))?$/) {
        $dir = (defined $1 && $1 ne "") ? $1 : $default_fetch_dir;
        $dir = "$orig_cwd/$dir" unless $dir =~ m{^/};
        if (is_ompi_tree($dir)) {
            say "reusing the Open MPI source tree in $dir";
        } else {
            my @cmd = ("$topdir/contrib/ivm-ompi-source", $dir);
            say "running: @cmd";
            system(@cmd) == 0 or die "autogen.pl: fetching the Open MPI source failed\n";
        }
    }
    # relative paths are relative to where autogen.pl was started
    $dir = "$orig_cwd/$dir" unless $dir =~ m{^/};
    die "autogen.pl: $dir is not an Open MPI source tree (no config/opal_mca.m4)\n"
        unless is_ompi_tree($dir);
    $dir = abs_path($dir);
    check_ompi_tree_version($dir);

    # Open MPI has no component called "ivm": every */mca/*/ivm in the
    # tree came from here.  Remove those that no longer exist here.
    my %wanted = map { $_->{dir} => 1 } @components;
    for my $old (glob("$dir/*/mca/*/ivm")) {
        my $rel = substr($old, length($dir) + 1);
        next if $wanted{$rel} || !-d $old;
        say "removing $rel from $dir (no longer in $topdir)";
        rmtree($old);
    }

    my $changed = 0;
    for my $c (@components) {
        $changed += overlay_dir("$topdir/$c->{dir}", "$dir/$c->{dir}");
    }
    say "copied the ivm components into $dir ($changed file(s) new or changed)";

    if ($overlay_only) {
        say "not running Open MPI's autogen.pl (--overlay-only)";
        return;
    }
    my @cmd = ("./autogen.pl", "--force", @ompi_autogen_args);
    say "running in $dir: @cmd";
    chdir($dir) or die "cannot chdir to $dir: $!\n";
    system(@cmd) == 0 or die "autogen.pl: Open MPI's autogen.pl failed in $dir\n";
    say "\nNow configure and build Open MPI in $dir (see doc/build.md for a configure line).";
}

sub is_ompi_tree {
    my ($d) = @_;
    return -f "$d/config/opal_mca.m4" && -f "$d/VERSION" && -d "$d/opal/mca";
}

sub check_ompi_tree_version {
    my ($d) = @_;
    open(my $fh, "<", "$d/VERSION") or die "cannot read $d/VERSION: $!\n";
    my %v;
    while (<$fh>) {
        $v{$1} = $2 if /^(major|minor|release)=(\d+)/;
    }
    close($fh);
    my $ver = join(".", map { $v{$_} // "?" } qw(major minor release));
    die "autogen.pl: cannot read the Open MPI version from $d/VERSION\n"
        unless defined $v{major} && defined $v{minor};
    if (($v{major} == 4 && $v{minor} == 1) || ($v{major} == 5 && $v{minor} == 0)) {
        say "Open MPI source tree $d: version $ver";
    } elsif ($v{major} > 5 || ($v{major} == 5 && $v{minor} > 0)) {
        warn "autogen.pl: WARNING: Open MPI $ver is untested (ivm supports 4.1.x and 5.0.x)\n";
    } else {
        die "autogen.pl: Open MPI $ver in $d is too old (ivm needs 4.1.x or 5.0.x)\n";
    }
}

# Copy a component directory's source files into the Open MPI tree.
# Files whose content is unchanged are left alone (keeping their
# timestamps, so make does not rebuild); build products of a standalone
# in-source build are never copied.
sub overlay_dir {
    my ($src, $dst) = @_;
    my $changed = 0;
    my @files;
    find({ no_chdir => 1, wanted => sub {
        my $rel = substr($File::Find::name, length($src));
        $rel =~ s{^/}{};
        my $base = basename($File::Find::name);
        if (-d $File::Find::name) {
            if ($base =~ /^\.(deps|libs|dirstamp)$/ || ($rel ne "" && $base =~ /^\./)) {
                $File::Find::prune = 1;
            }
            return;
        }
        return if $base =~ /\.(o|lo|la|so|a)$/ || $base =~ /^(Makefile|Makefile\.in)$/
               || $base =~ /~$/ || $base =~ /^\.(dirstamp|gitignore)$/;
        # Executables produced by a standalone in-source build
        return if -x $File::Find::name && -B $File::Find::name;
        push(@files, $rel);
    } }, $src);
    for my $rel (sort @files) {
        my ($from, $to) = ("$src/$rel", "$dst/$rel");
        next if -f $to && compare($from, $to) == 0;
        make_path(dirname($to));
        copy($from, $to) or die "cannot copy $from to $to: $!\n";
        chmod((stat($from))[2] & 07777, $to);
        $changed++;
    }
    return $changed;
}
