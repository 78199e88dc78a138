/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Stand-in for Open MPI's ompi/mpi/fortran/base/fint_2_int.h, which
 * installed devel headers lack although ompi/op/op.h includes it; used
 * only by standalone builds (see configure.m4).  ompi_op_reduce() needs
 * OMPI_INT_2_FINT alone, to call Fortran user operations. */

#ifndef OMPI_FORTRAN_BASE_FINT_2_INT_H
#define OMPI_FORTRAN_BASE_FINT_2_INT_H

#include "ompi_config.h"

#define OMPI_INT_2_FINT(a) ((MPI_Fint) (a))
#define OMPI_FINT_2_INT(a) ((int) (a))

#endif
